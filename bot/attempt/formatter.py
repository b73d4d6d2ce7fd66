"""Run an operator-allowed formatter over the files an answer changed, and check what it did.

The command is the operator's (FORMATTERS: a name and an exact argv); a repository only picks
the name. It runs with no shell, a minimal environment (PATH, a throwaway HOME and TMPDIR, no
secret of the server's), a wall-clock limit, and `--` before the paths. While it runs, the
formatter configuration files the answer edited hold their base-commit content, so the model
cannot choose the formatter's settings (or plugins). Afterwards the tree is checked again: a
formatter that changed a file outside the planned set, left a symlink or touched a protected
path makes the attempt refused, never committed.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.attempt import safe_write as safety
from bot.core.file_rules import check_path
from bot.core.policy import FORMATTER_CONFIG_NAMES
from bot.git.cmd import git
from bot.git.env import BASE_CONFIG, git_environment
from bot.settings import RepoConfig, Settings

MAX_SHOWN = 5


class FormatterRefused(RuntimeError):
    """The formatter did something an answer may not do; the message says what (no paths
    beyond the repository's own, no output of the command)."""


@dataclass(frozen=True)
class Formatter:
    name: str
    argv: tuple[str, ...]
    timeout: float = 60.0
    # Where the command is looked up: the server's PATH, read once by Settings.from_env.
    path: str = "/usr/local/bin:/usr/bin:/bin"


def formatter_for(settings: Settings, config: RepoConfig) -> Formatter | None:
    """The operator's command for the formatter the repository named (the config was narrowed
    to allowed names when it was read; the lookup stays defensive)."""
    argv = settings.policy.formatters.get(config.formatter or "")
    if not config.formatter or not argv:
        return None
    return Formatter(
        config.formatter, argv, settings.formatter_timeout_seconds, settings.formatter_path
    )


def _changed_paths(worktree: Path) -> set[str]:
    """Paths that differ from HEAD, untracked ones included (ignored ones are never committed)."""
    out = git("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=worktree).stdout
    paths: set[str] = set()
    entries = iter(out.split("\0"))
    for entry in entries:
        if not entry:
            continue
        paths.add(entry[3:])
        if entry[0] in "RC":  # a rename's source follows as its own entry
            paths.add(next(entries, ""))
    paths.discard("")
    return paths


def _base_content(worktree: Path, path: str) -> bytes | None:
    """A file's bytes at HEAD, or None when it is new (configuration may not be UTF-8)."""
    proc = subprocess.run(
        ["git", "show", f"HEAD:{path}"],
        cwd=worktree,
        capture_output=True,
        env=git_environment(BASE_CONFIG),  # no host git configuration, as for every git
    )
    return proc.stdout if proc.returncode == 0 else None


def _env(path: str, home: str) -> dict[str, str]:
    return {
        "PATH": path,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "XDG_CACHE_HOME": f"{home}/.cache",
    }


def _swap_in_base_configs(worktree: Path, written: Sequence[str]) -> dict[Path, bytes | None]:
    """Put the base commit's version of every formatter configuration file the answer wrote;
    return what to put back afterwards."""
    saved: dict[Path, bytes | None] = {}
    for path in written:
        if PurePosixPath(path).name not in FORMATTER_CONFIG_NAMES:
            continue
        target = worktree / path
        saved[target] = target.read_bytes() if target.is_file() else None
        base = _base_content(worktree, path)
        if base is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(base)
    return saved


def _restore(saved: dict[Path, bytes | None]) -> None:
    for target, content in saved.items():
        if target.is_symlink():
            target.unlink()
        if content is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def _run(worktree: Path, formatter: Formatter, paths: Sequence[str]) -> str | None:
    with tempfile.TemporaryDirectory(prefix="issuewright-fmt-") as home:
        try:
            proc = subprocess.Popen(
                [*formatter.argv, "--", *paths],
                cwd=worktree,
                env=_env(formatter.path, home),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # so a timeout stops its children too
            )
        except OSError as exc:
            return f"formatter `{formatter.name}` did not run: {exc.strerror}"
        try:
            _, stderr = proc.communicate(timeout=formatter.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return (
                f"formatter `{formatter.name}` did not finish within {formatter.timeout:.0f} s "
                "(FORMATTER_TIMEOUT_SECONDS) and was stopped"
            )
    if proc.returncode != 0:
        last = stderr.strip().splitlines()[-1:] or [""]
        return f"formatter `{formatter.name}` exited {proc.returncode}: {last[0][:300]}"
    return None


def _shown(paths: Sequence[str]) -> str:
    names = sorted(paths)
    more = f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else ""
    return ", ".join(f"`{p}`" for p in names[:MAX_SHOWN]) + more


def format_changes(
    worktree: Path,
    formatter: Formatter,
    plan: safety.EditPlan,
    denied_paths: Sequence[str],
) -> str | None:
    """Format the files `plan` wrote. Returns a note when the formatter failed (the edits stay
    as the model wrote them); raises FormatterRefused when it overstepped."""
    written = [c.path for c in plan.changes if c.after is not None]
    planned = {c.path for c in plan.changes} | {c.old_path for c in plan.changes if c.old_path}
    if not written:
        return None
    saved = _swap_in_base_configs(worktree, written)
    try:
        note = _run(worktree, formatter, written)
    finally:
        _restore(saved)
    outside = _changed_paths(worktree) - planned
    if outside:
        raise FormatterRefused(
            f"formatter `{formatter.name}` changed files outside the planned set "
            f"({_shown(sorted(outside))})"
        )
    for path in written:
        target = worktree / path
        try:
            mode = target.lstat().st_mode
        except FileNotFoundError:
            raise FormatterRefused(
                f"formatter `{formatter.name}` deleted `{path}`, which the answer wrote"
            ) from None
        if not stat.S_ISREG(mode):
            raise FormatterRefused(
                f"formatter `{formatter.name}` replaced `{path}` with something not a file"
            )
        reason = check_path(path, denied_paths)
        if reason:
            raise FormatterRefused(f"formatter `{formatter.name}` touched `{path}`: {reason}")
    return note
