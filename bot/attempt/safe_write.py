"""Safe application of a model's edits to a directory: path rules, content and syntax checks,
and an all-or-nothing write. Git is not involved here (see workspace.py), so `issuewright
apply` and the pipeline share exactly these rules.

`plan_answer` reads and validates everything without writing; `write_plan` then writes with
temporary files and renames, and restores the tree if anything fails part-way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.core.edit_apply import FileChange, apply_edits, touched_paths
from bot.core.edits import EditProblem, FileEdit, parse_answer
from bot.core.file_rules import (
    DEFAULT_DENIED,
    DEFAULT_MAX_FILE_BYTES,
    check_argv_safe,
    check_content,
    check_path,
    check_syntax,
)


class WriteError(OSError):
    """Writing failed part-way; the tree was restored to what it was before."""


@dataclass(frozen=True)
class EditPlan:
    """Validated edits, ready to write. Nothing may be written unless `ok`."""

    changes: tuple[FileChange, ...] = ()
    problems: tuple[EditProblem, ...] = ()
    notes: tuple[str, ...] = ()
    summary: str | None = None
    original: dict[str, str | None] = field(default_factory=dict)
    final: dict[str, str | None] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    edits: tuple[FileEdit, ...] = ()  # what was planned (`already_applied` reads them)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- rules (pure)


# ---------------------------------------------------------------- reading and planning


def check_location(root: Path, path: str) -> str | None:
    """Why writing `root/path` on disk is unsafe (symlinks, non-directories), or None.

    A path the file system cannot even look up (a name too long, a loop) is refused like
    any other bad path, never raised: the model gets it back in the repair round. The reason
    names no folder of the server."""
    try:
        return _location_problem(root, path)
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL byte
        why = getattr(exc, "strerror", None) or "not a valid path"
        return f"the path cannot be used on disk ({why})"


def _location_problem(root: Path, path: str) -> str | None:
    current = root
    parts = path.split("/")
    for depth, part in enumerate(parts, start=1):
        current = current / part
        shown = "/".join(parts[:depth])
        if current.is_symlink():
            return f"{shown} is a symbolic link; writing through links is not allowed"
        if depth < len(parts) and current.exists() and not current.is_dir():
            return f"{shown} is a file, not a directory"
    if current.is_dir():
        return "the path is a directory"
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(current)]) != real_root:
        return "the path resolves outside the repository"
    return None


def plan_answer(
    root: Path,
    answer: str,
    *,
    denied_paths: Sequence[str] = DEFAULT_DENIED,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> EditPlan:
    """Parse `answer` and check every rule against the tree at `root`, without writing."""
    parsed = parse_answer(answer)
    if not parsed.ok:
        return EditPlan(problems=parsed.problems, summary=parsed.summary)
    plan = plan_edits(root, parsed.edits, denied_paths=denied_paths, max_file_bytes=max_file_bytes)
    return replace(plan, summary=parsed.summary)


def plan_edits(
    root: Path,
    edits: Sequence[FileEdit],
    *,
    denied_paths: Sequence[str] = DEFAULT_DENIED,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> EditPlan:
    line_of: dict[str, int] = {}
    for edit in reversed(edits):
        line_of[edit.path] = line_of[edit.new_path or edit.path] = edit.line
    problems = []
    for path in touched_paths(edits):
        reason = (
            check_path(path, denied_paths) or check_argv_safe(path) or check_location(root, path)
        )
        if reason:
            problems.append(EditProblem(path, reason, line_of[path]))
    if problems:
        return EditPlan(problems=tuple(problems))
    original: dict[str, str | None] = {}
    modes: dict[str, int] = {}
    for path in touched_paths(edits):
        target = root / path
        if not target.exists():
            original[path] = None
            continue
        data = target.read_bytes()
        modes[path] = target.stat().st_mode & 0o777
        try:
            if b"\x00" in data:
                raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
            original[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            reason = "the existing file is binary or not UTF-8; only text files can be edited"
            problems.append(EditProblem(path, reason, line_of[path]))
    if problems:
        return EditPlan(problems=tuple(problems))
    result = apply_edits(original, edits)
    problems = list(result.problems)
    for change in result.changes:
        if change.after is None:
            continue
        reason = check_content(change.after, max_file_bytes) or check_syntax(
            change.path, change.before, change.after
        )
        if reason:
            problems.append(EditProblem(change.path, reason, line_of.get(change.path)))
        if change.old_path and change.old_path in modes:
            modes[change.path] = modes[change.old_path]
    return EditPlan(
        result.changes,
        tuple(problems),
        result.notes,
        None,
        original,
        result.files,
        modes,
        tuple(edits),
    )


# ---------------------------------------------------------------- writing


def write_plan(root: Path, plan: EditPlan) -> None:
    """Write a validated plan all-or-nothing; on any error restore the tree and raise."""
    if not plan.ok:
        raise ValueError("refusing to write a plan with problems")
    writes = {p: t for p, t in plan.final.items() if t is not None and t != plan.original[p]}
    deletes = [p for p, t in plan.final.items() if t is None and plan.original[p] is not None]
    made_dirs: list[Path] = []
    temps: dict[str, str] = {}
    done: list[str] = []
    try:
        for path, text in writes.items():
            # Checked again right before writing: the tree may have changed since planning.
            if reason := check_location(root, path):
                raise WriteError(f"{path}: {reason}")
            parent = (root / path).parent
            for d in reversed([parent, *parent.parents]):
                if d.is_relative_to(root) and not d.exists():
                    d.mkdir()
                    made_dirs.append(d)
            fd, temps[path] = tempfile.mkstemp(dir=parent, prefix=".issuewright-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.chmod(temps[path], plan.modes.get(path, 0o644))
        for path in writes:
            os.replace(temps[path], root / path)
            del temps[path]
            done.append(path)
        for path in deletes:
            os.unlink(root / path)
            done.append(path)
    except BaseException as exc:
        _roll_back(root, plan, done, temps, made_dirs)
        if isinstance(exc, OSError):
            raise WriteError(f"writing failed and was rolled back: {exc}") from exc
        raise


def _roll_back(
    root: Path, plan: EditPlan, done: list[str], temps: dict[str, str], made_dirs: list[Path]
) -> None:
    for path in reversed(done):
        before = plan.original[path]
        target = root / path
        try:
            if before is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(before.encode("utf-8"))
                os.chmod(target, plan.modes.get(path, 0o644))
        except OSError:
            continue  # best effort: keep restoring the others
    for temp in temps.values():
        Path(temp).unlink(missing_ok=True)
    for d in reversed(made_dirs):
        try:
            d.rmdir()
        except OSError:
            continue
