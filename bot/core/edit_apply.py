"""Applying parsed edits (`bot.core.edits`) to in-memory file contents. Pure: no I/O.

Sections apply in order; each SEARCH must match exactly once. When an exact match fails, a
bounded whitespace-tolerant match (trailing whitespace, then a uniform indentation difference)
is tried; it is used only if unique and is reported as a note.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.core.edits import EditProblem, FileEdit, Section

ChangeAction = Literal["create", "modify", "delete", "rename"]


@dataclass(frozen=True)
class FileChange:
    path: str
    action: ChangeAction
    before: str | None
    after: str | None
    added: int
    removed: int
    old_path: str | None = None  # set for renames


@dataclass(frozen=True)
class ApplyResult:
    files: dict[str, str | None]  # final content of every touched path; None = absent
    changes: tuple[FileChange, ...]
    problems: tuple[EditProblem, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def touched_paths(edits: Sequence[FileEdit]) -> list[str]:
    """Every path the edits read or write, in first-seen order (callers load these)."""
    seen: dict[str, None] = {}
    for edit in edits:
        seen.setdefault(edit.path)
        if edit.new_path:
            seen.setdefault(edit.new_path)
    return list(seen)


def apply_edits(files: Mapping[str, str | None], edits: Sequence[FileEdit]) -> ApplyResult:
    """Apply edits to in-memory contents. A path missing from `files` does not exist."""
    state: dict[str, str | None] = {p: files.get(p) for p in touched_paths(edits)}
    renamed_from: dict[str, str] = {}
    problems: list[EditProblem] = []
    notes: list[str] = []
    for edit in edits:
        content = state[edit.path]
        if edit.action == "delete":
            if content is None:
                problems.append(EditProblem(edit.path, "cannot delete: no such file", edit.line))
            state[edit.path] = None
            continue
        path = edit.path
        if edit.action == "rename":
            assert edit.new_path is not None
            if content is None:
                problems.append(EditProblem(path, "cannot rename: no such file", edit.line))
                continue
            if state[edit.new_path] is not None:
                problems.append(EditProblem(edit.new_path, "cannot rename: exists", edit.line))
                continue
            state[path], path = None, edit.new_path
            state[path] = content
            renamed_from[path] = renamed_from.pop(edit.path, edit.path)
        for section in edit.sections:
            content, note, problem = _apply_section(path, state[path], section)
            if problem:
                problems.append(problem)
            else:
                state[path] = content
                if note:
                    notes.append(note)
    changes = _changes(files, state, renamed_from)
    touched = {c.path for c in changes} | {c.old_path for c in changes if c.old_path}
    notes += [f"{p}: the edits leave it unchanged" for p in state if p not in touched]
    return ApplyResult(state, tuple(changes), tuple(problems), tuple(notes))


def _changes(
    original: Mapping[str, str | None], final: dict[str, str | None], renamed: dict[str, str]
) -> list[FileChange]:
    changes: list[FileChange] = []
    for path, after in final.items():
        before = original.get(path)
        if path in renamed and after is not None:
            old = renamed[path]
            added, removed = count_lines(original.get(old), after)
            changes.append(
                FileChange(path, "rename", original.get(old), after, added, removed, old)
            )
        elif before == after or (after is None and path in renamed.values()):
            continue
        else:
            action: ChangeAction = (
                "create" if before is None else "delete" if after is None else "modify"
            )
            changes.append(FileChange(path, action, before, after, *count_lines(before, after)))
    return changes


def count_lines(before: str | None, after: str | None) -> tuple[int, int]:
    """(added, removed) lines between two contents, as a line diff counts them."""
    a, b = _split(before or ""), _split(after or "")
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def unified_diff(change: FileChange) -> str:
    """The change as `git diff` shows it: a/ and b/ paths, /dev/null for an absent side."""
    old = change.old_path or change.path
    head = [f"diff --git a/{old} b/{change.path}\n"]
    if change.action == "rename":
        head += [f"rename from {old}\n", f"rename to {change.path}\n"]
    elif change.action in ("create", "delete"):
        head.append("new file\n" if change.action == "create" else "deleted file\n")
    body = difflib.unified_diff(
        _split(change.before or ""),
        _split(change.after or ""),
        "/dev/null" if change.before is None else f"a/{old}",
        "/dev/null" if change.after is None else f"b/{change.path}",
    )
    # A last line without a newline is marked, as git marks it, instead of running into the
    # next line.
    lines = [x if x.endswith("\n") else f"{x}\n\\ No newline at end of file\n" for x in body]
    return "".join(head + lines)


def _split(text: str) -> list[str]:
    # Not str.splitlines: form feeds and U+2028 inside a line are content, not line breaks.
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _body(line: str) -> str:
    return line[:-1].removesuffix("\r") if line.endswith("\n") else line


def _apply_section(
    path: str, content: str | None, section: Section
) -> tuple[str | None, str | None, EditProblem | None]:
    if not section.search:
        if content:
            return None, None, EditProblem(path, "empty SEARCH but the file exists", section.line)
        return section.replace, None, None
    if content is None:
        return None, None, EditProblem(path, "SEARCH given but no such file", section.line)
    flines = _split(content)
    bodies = [_body(x) for x in flines]
    wanted = section.search[:-1].split("\n")
    replace = section.replace[:-1].split("\n") if section.replace else []
    exact = _find(bodies, wanted, lambda a, b: a == b)
    note = None
    if len(exact) > 1:
        where = ", ".join(str(p + 1) for p in exact[:5])
        return (
            None,
            None,
            EditProblem(
                path,
                f"SEARCH matches {len(exact)} times (file lines {where}); include more "
                "surrounding lines so it matches exactly once",
                section.line,
            ),
        )
    if exact:
        at = exact[0]
    else:
        at, replace, note, problem = _fallback(path, bodies, wanted, replace, section.line)
        if problem:
            return None, None, problem
    newline = "\r\n" if flines[0].endswith("\r\n") else "\n"
    end = at + len(wanted)
    keep_last_eol = end < len(flines) or flines[-1].endswith("\n")
    new = [x + newline for x in replace]
    if new and not keep_last_eol:
        new[-1] = replace[-1]
    return "".join(flines[:at] + new + flines[end:]), note, None


def _find(bodies: list[str], wanted: list[str], same: Callable[[str, str], bool]) -> list[int]:
    n = len(wanted)
    return [
        p
        for p in range(len(bodies) - n + 1)
        if all(same(bodies[p + k], wanted[k]) for k in range(n))
    ]


def _fallback(
    path: str, bodies: list[str], wanted: list[str], replace: list[str], line: int
) -> tuple[int, list[str], str | None, EditProblem | None]:
    trailing = _find(bodies, wanted, lambda a, b: a.rstrip() == b.rstrip())
    if len(trailing) == 1:
        note = f"{path}: SEARCH at answer line {line} matched only ignoring trailing whitespace"
        return trailing[0], replace, note, None
    candidates = [] if trailing else _find(bodies, wanted, lambda a, b: a.strip() == b.strip())
    shifted = [(p, d) for p in candidates if (d := _indent_delta(bodies[p:], wanted))]
    if len(trailing) > 1 or len(shifted) > 1:
        count = max(len(trailing), len(shifted))
        reason = f"SEARCH does not match exactly and matches {count} places when whitespace "
        return 0, [], None, EditProblem(path, reason + "is ignored; copy the lines exactly", line)
    if shifted:
        at, (sign, prefix) = shifted[0]
        fixed = [_reindent(x, sign, prefix) for x in replace]
        kind = "more" if sign > 0 else "less"
        note = f"{path}: SEARCH at answer line {line} matched only with {prefix!r} {kind} indent"
        return at, fixed, note, None
    first = next((w.strip() for w in wanted if w.strip()), "")
    seen = [str(i + 1) for i, b in enumerate(bodies) if first and b.strip() == first][:5]
    hint = (
        f"; its first line appears at file line(s) {', '.join(seen)} but the lines after differ"
        if seen
        else "; its first line is not in the file"
    )
    return 0, [], None, EditProblem(path, "SEARCH does not match the file" + hint, line)


def _indent_delta(window: list[str], wanted: list[str]) -> tuple[int, str] | None:
    """(+1, prefix) if the file is indented by `prefix` more than SEARCH, (-1, p) if less."""
    pairs = [(a.rstrip(), b.rstrip()) for a, b in zip(window, wanted, strict=False) if b.strip()]
    if not pairs:
        return None
    a, b = pairs[0]
    sign, prefix = (1, a[: len(a) - len(b)]) if len(a) > len(b) else (-1, b[: len(b) - len(a)])
    if not prefix or prefix.strip():
        return None
    if all((x == prefix + y) if sign > 0 else (y == prefix + x) for x, y in pairs):
        return sign, prefix
    return None


def _reindent(line: str, sign: int, prefix: str) -> str:
    if not line.strip():
        return line
    return prefix + line if sign > 0 else line.removeprefix(prefix)
