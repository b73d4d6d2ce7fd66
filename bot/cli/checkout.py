"""The repository map `plan --repo` and `context rank` show, read as the app reads it.

- A git checkout: its committed tree at HEAD (from git's objects, like the app reads its
  mirror), so git-ignored files, build output and uncommitted edits are never ranked and the
  preview matches what the app will see once the change is pushed.
- With `--worktree`: the files git would commit, as they are on disk (tracked and untracked,
  never git-ignored), for trying out a change before committing it.
- A folder that is not a git checkout: its files as they are.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.cli.output import PROG, CliError
from bot.cli.progress import progress
from bot.context.map_cache import CLI_MAPS_KEPT, cached_map
from bot.context.repomap import RepoMap
from bot.git.env import BASE_CONFIG, git_environment
from bot.prompts.overrides import overrides_at, overrides_on_disk


@dataclass(frozen=True)
class Checkout:
    root: Path  # the top of the checkout (or the folder given)
    read: Literal["HEAD", "worktree", "folder"]
    commit: str | None  # what HEAD was (None for a folder)
    repo_map: RepoMap
    # The prompt overrides read the same way (bot/prompts/overrides.py), by path.
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.root.name

    def text(self, path: str) -> str | None:
        """A file of the map (what was read), or None."""
        index = self.repo_map.index_of.get(path)
        return None if index is None else self.repo_map.entries[index].text

    def describe(self) -> str:
        """Which files were read, for the line under a command's output."""
        if self.read == "folder":
            return f"{self.root} as on disk (not a git checkout)"
        head = f"HEAD {self.commit[:12]}" if self.commit else "no commit yet"
        if self.read == "worktree":
            return f"{self.root} as on disk ({head} and uncommitted files; git-ignored left out)"
        return f"{self.root} at {head} (uncommitted changes left out; --worktree includes them)"

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.root), "read": self.read, "commit": self.commit}


def load_checkout(
    path: Path, *, worktree: bool = False, cache_dir: Path | None = None, at: str | None = None
) -> Checkout:
    """The map of `path` (see the module's docstring). At HEAD it is kept in `cache_dir`
    (Settings.cache_dir: ISSUEWRIGHT_CACHE_DIR or the XDG cache folder) under its commit, as
    the app keeps its own, so only the first run on a commit builds it. `at`: read that
    commit instead of HEAD (a resumed run plans from the commit it started from)."""
    if not path.is_dir():
        raise CliError(f"--repo {str(path)!r} is not a directory")
    top = _git(path, "rev-parse", "--show-toplevel", may_fail_with="not a git repository")
    if top is None:
        with progress(f"reading {path} for the repository map…"):
            repo_map = RepoMap.from_dir(path)
        return Checkout(path.resolve(), "folder", None, repo_map, overrides_on_disk(path))
    root = Path(top)
    commit = _git(
        root, "rev-parse", "--verify", "--quiet", f"{at or 'HEAD'}^{{commit}}", may_fail_with=""
    )
    if at is not None and commit is None:
        raise CliError(f"commit {at[:12]} is no longer in {root}")
    if worktree:
        listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard") or ""
        paths = sorted(set(filter(None, listed.split("\0"))))
        with progress(f"reading {len(paths):,} files of {root} for the repository map…"):
            repo_map = RepoMap.from_dir(root, paths)
        return Checkout(root, "worktree", commit, repo_map, overrides_on_disk(root, paths))
    if commit is None:
        raise CliError(
            f"{root} has no commit yet: commit the files, or add --worktree to read them as "
            "they are on disk"
        )
    git_dir = Path(_git(root, "rev-parse", "--absolute-git-dir") or root / ".git")
    cache = _usable(cache_dir / "repomaps") if cache_dir else None
    with progress(f"reading {root} at {commit[:12]} for the repository map…"):
        repo_map = cached_map(git_dir, commit, cache, keep=CLI_MAPS_KEPT)
    return Checkout(root, "HEAD", commit, repo_map, overrides_at(git_dir, commit))


def _usable(cache: Path) -> Path | None:
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)  # maps hold the code they map
    except OSError as exc:
        print(
            f"{PROG}: warning: cannot use the cache folder {cache} ({exc.strerror}); the "
            "repository map is built anew each time (set ISSUEWRIGHT_CACHE_DIR)",
            file=sys.stderr,
        )
        return None
    return cache


def _git(cwd: Path, *args: str, may_fail_with: str | None = None) -> str | None:
    """The output of a read-only git command (one trailing newline removed). A failure whose
    message contains `may_fail_with` is an answer (None); any other is the user's to fix
    (a checkout of another user: "detected dubious ownership")."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            env=git_environment(BASE_CONFIG),  # like every git the app runs: no host config
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        raise CliError("git is not installed or does not answer; it is needed for --repo") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip()
        if may_fail_with is not None and may_fail_with in message:
            return None
        detail = message.splitlines()[0] if message else f"exit status {proc.returncode}"
        raise CliError(f"git cannot read {cwd}: {detail}")
    # Paths are bytes to git; undecodable ones survive as surrogates and still open.
    return proc.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")
