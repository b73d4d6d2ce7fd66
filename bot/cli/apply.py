"""`issuewright apply`: what the bot would do with a saved model answer, on a local checkout.

Same parser, path rules and syntax checks as the pipeline (bot/attempt/safe_write.py); with
--dry-run, the unified diff of what would be written. An answer the checkout already holds is
said to be applied and nothing is written (bot/core/applied.py). Exit codes: 0 applied (or
would apply, or already applied), 1 refused (nothing written), 2 unusable input.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text

from bot.attempt import safe_write as safety
from bot.attempt.edit_rounds import too_many_files
from bot.cli import table
from bot.cli.output import CliError, fail, print_json
from bot.cli.table import Column, print_table
from bot.core.applied import already_applied
from bot.core.edit_apply import FileChange, unified_diff
from bot.core.file_rules import DEFAULT_DENIED, DEFAULT_MAX_FILE_BYTES
from bot.git.env import BASE_CONFIG, git_environment


def cli_apply(
    repo: Path,
    answer: str,
    dry_run: bool,
    as_json: bool,
    denied_paths: Sequence[str] = DEFAULT_DENIED,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_files: int | None = None,
    *,
    text: str | None = None,
) -> int:
    """`answer` names the answer's file; `text`, when given, is the answer itself (a stored
    one: `apply --from-attempt`)."""
    root = _checkout_root(repo)
    if isinstance(root, str):
        return fail(root)
    text = _read_answer(answer) if text is None else text
    if text is None:
        return fail(f"answer file {answer} cannot be read")
    plan = safety.plan_answer(root, text, denied_paths=denied_paths, max_file_bytes=max_file_bytes)
    # Applied before: say so and write nothing (applying again would insert additions twice).
    applied = bool(plan.original) and already_applied(plan.original, plan.edits)
    changes = () if applied else plan.changes
    write_error = None
    if plan.ok and max_files is not None and len(changes) > max_files:
        # The app's limit, refused as the app refuses it (bot/attempt/edit_rounds.py).
        write_error = too_many_files(len(changes), max_files)
    if plan.ok and changes and not dry_run and write_error is None:
        try:
            safety.write_plan(root, plan)
        except safety.WriteError as exc:
            write_error = str(exc)
    ok = (applied or plan.ok) and write_error is None
    if as_json:
        problems: list[dict[str, Any]] = [
            {"path": p.path, "reason": p.reason, "line": p.line}
            for p in ([] if applied else plan.problems)
        ]
        if write_error:
            problems.append({"path": None, "reason": write_error, "line": None})
        print_json(
            {
                "ok": ok,
                "dry_run": dry_run,
                "already_applied": applied,
                "changes": [_change_json(c) for c in changes] if plan.ok else [],
                "problems": problems,
                "notes": [] if applied else list(plan.notes),
                "summary": plan.summary,
            }
        )
        return 0 if ok else 1
    if applied:
        print("already applied: the checkout holds every edit of this answer; nothing written")
        return 0
    if not plan.ok:
        print("refused, nothing written:")
        for problem in plan.problems:
            print(f"  {problem.render()}")
        return 1
    print_table(
        ["action", "path", Column("added", right=True), Column("removed", right=True)],
        [(c.action, _change_path(c), c.added, c.removed) for c in changes],
    )
    for note in plan.notes:
        print(f"note: {note}")
    if write_error:
        print(f"refused, nothing written: {write_error}")
        return 1
    if dry_run:
        print()
        print_diff("".join(unified_diff(c) for c in changes))
        print("dry run: nothing written")
    return 0


def print_diff(diff: str) -> None:
    """A unified diff, coloured on a terminal."""
    console = table.stdout_console()
    if not console.is_terminal:
        sys.stdout.write(diff)
        return
    for line in diff.splitlines():
        style = ""
        if line.startswith(("diff --git", "--- ", "+++ ")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith(("+", "-")):
            style = "green" if line[0] == "+" else "red"
        console.print(Text(line, style=style), soft_wrap=True)


def _checkout_root(repo: Path) -> Path | str:
    if not repo.is_dir():
        return f"repository directory {repo} does not exist"
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=repo,
            capture_output=True,
            text=True,
            env=git_environment(BASE_CONFIG),  # like every git the app runs: no host config
        )
    except OSError:
        return "git is not installed or cannot run"
    if proc.returncode != 0 or not proc.stdout.strip():
        return f"{repo} is not a git checkout (with a work tree)"
    # Answers name paths from the top of the checkout, whichever folder was given.
    return Path(proc.stdout.strip())


def read_answer_or_fail(answer: str) -> str:
    text = _read_answer(answer)
    if text is None:
        raise CliError(f"answer file {answer} cannot be read")
    return text


def _read_answer(answer: str) -> str | None:
    try:
        if answer == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read() if stream is not None else sys.stdin.read().encode()
        else:
            data = Path(answer).read_bytes()
    except OSError:
        return None
    # Undecodable bytes survive as surrogates, so the content check names the file they are in.
    return data.decode("utf-8", errors="surrogateescape")


def _change_path(change: FileChange) -> str:
    return f"{change.old_path} -> {change.path}" if change.action == "rename" else change.path


def _change_json(change: FileChange) -> dict[str, Any]:
    item: dict[str, Any] = {
        "path": change.path,
        "action": change.action,
        "added": change.added,
        "removed": change.removed,
        "diff": unified_diff(change),
    }
    if change.old_path:
        item["from"] = change.old_path
    return item
