"""The edit format the model answers in, and applying it to file contents (pure, no I/O).

Format
======
Each edit is the file's path alone on a line, then a fenced block (three or more
backticks, optional language) holding one or more SEARCH/REPLACE sections::

    src/app/util.py
    ```python
    <<<<<<< SEARCH
    def add(a, b):
        return a - b
    =======
    def add(a, b):
        return a + b
    >>>>>>> REPLACE
    ```

- SEARCH holds lines copied exactly from the current file; it must match exactly once. The
  matched lines are replaced by the REPLACE lines (an empty REPLACE deletes them). Sections
  in a block, and blocks for the same path, apply in the order they appear.
- An empty SEARCH creates a new file whose content is the REPLACE lines.
- Delete a file: path line, then a fence whose only content is ``<<<<<<< DELETE FILE``.
- Rename a file: path line (the old path), then a fence starting with
  ``<<<<<<< RENAME TO new/path``, optionally followed by SEARCH/REPLACE sections that apply
  to the renamed file.
- The path line may be wrapped in backticks or bold markers and end with a colon; a path
  with spaces must be wrapped in backticks. Marker lines are exact (seven characters, one
  space, keyword), so a line ``=======`` cannot be edited inside a section.
- Text outside blocks is ignored, except a line starting with ``SUMMARY:``: its text up to
  the end of the answer (or the next edit block) is the model's summary of the change.

Parsing is strict: anything that looks like a broken block is an `EditProblem` with the
answer line it was found on, so the model can repair it. When an exact SEARCH match fails,
a bounded whitespace-tolerant match (trailing whitespace, then a uniform indentation
difference) is tried; it is used only if unique and is reported as a note.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

FENCE_OPEN = re.compile(r"^\s*`{3,}[\w+#.-]*\s*$")
FENCE_CLOSE = re.compile(r"^\s*`{3,}\s*$")
SEARCH = re.compile(r"^<{7} SEARCH\s*$")
DIVIDER = re.compile(r"^={7}\s*$")
REPLACE = re.compile(r"^>{7} REPLACE\s*$")
DELETE = re.compile(r"^<{7} DELETE FILE\s*$")
RENAME = re.compile(r"^<{7} RENAME TO(?: (.*))?$")
# Only the format's own keywords count as markers: a "<<<<<<< HEAD" line is ordinary text.
ANY_MARKER = re.compile(r"^(<{7} (SEARCH|DELETE FILE|RENAME TO)|>{7} REPLACE)\b")
SUMMARY = re.compile(r"^\s*SUMMARY:")


@dataclass(frozen=True)
class EditProblem:
    """Why an answer (or part of it) cannot be used. `line` is 1-based in the answer."""

    path: str | None
    reason: str
    line: int | None = None

    def render(self) -> str:
        where = f" (answer line {self.line})" if self.line else ""
        if self.path is None:
            return f"answer line {self.line}: {self.reason}" if self.line else self.reason
        return f"{self.path}: {self.reason}{where}"


@dataclass(frozen=True)
class Section:
    """One SEARCH/REPLACE pair; texts are whole lines ending in a newline, or empty."""

    search: str
    replace: str
    line: int


@dataclass(frozen=True)
class FileEdit:
    path: str
    action: Literal["edit", "delete", "rename"]
    sections: tuple[Section, ...] = ()
    new_path: str | None = None
    line: int = 0  # answer line of the path


@dataclass(frozen=True)
class ParsedAnswer:
    edits: tuple[FileEdit, ...]
    summary: str | None
    problems: tuple[EditProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


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


class _BlockError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def clean_path(raw: str) -> str | None:
    """The path written on a path line, or None if the line cannot be a path."""
    text = raw.strip().lstrip("#").strip().strip("*").rstrip(":").strip()
    quoted = len(text) >= 2 and text[0] == text[-1] == "`"
    text = text.strip("`").strip()
    if text.startswith("./"):
        text = text[2:]
    if not text or (not quoted and any(c.isspace() for c in text)):
        return None
    return text


def parse_answer(answer: str) -> ParsedAnswer:
    """Split a model answer into file edits, the summary, and problems with line numbers."""
    lines = answer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    edits: list[FileEdit] = []
    problems: list[EditProblem] = []
    summary_at: int | None = None
    summary_end: int | None = None
    last_end = -1  # index of the last line a block consumed
    i = 0
    while i < len(lines):
        line = lines[i]
        if summary_at is None and SUMMARY.match(line):
            summary_at = i
        elif FENCE_OPEN.match(line):
            marker_at = _first_marker(lines, i + 1)
            if marker_at is None:  # an ordinary code fence: ignore it whole
                i = last_end = _fence_end(lines, i + 1)
                i += 1
                continue
            path_at = next((k for k in range(i - 1, last_end, -1) if lines[k].strip()), None)
            if summary_at is not None and summary_end is None and path_at is not None:
                summary_end = path_at
            try:
                edit, i = _parse_block(lines, i, path_at, marker_at)
                edits.append(edit)
            except _BlockError as exc:
                path = clean_path(lines[path_at]) if path_at is not None else None
                problems.append(EditProblem(path, exc.reason, exc.line))
                # Skip the rest of the broken block so it does not cascade into more errors.
                i = _fence_end(lines, max(exc.line, i + 1))
            last_end = i
        elif ANY_MARKER.match(line):
            problems.append(
                EditProblem(
                    None,
                    f"{line.strip()!r} is outside a fenced block; write the path on its own "
                    "line, then ```, the sections, and a closing ```",
                    i + 1,
                )
            )
        i += 1
    if not edits and not problems:
        problems.append(EditProblem(None, "the answer contains no edit blocks"))
    summary = None
    if summary_at is not None:
        body = "\n".join(lines[summary_at : summary_end or len(lines)])
        summary = SUMMARY.sub("", body, count=1).strip() or None
    return ParsedAnswer(tuple(edits), summary, tuple(problems))


def _first_marker(lines: list[str], start: int) -> int | None:
    """Index of the first marker line in the fence opened before `start`, if any."""
    for k in range(start, len(lines)):
        if FENCE_CLOSE.match(lines[k]):
            return None
        if ANY_MARKER.match(lines[k]):
            return k
    return None


def _fence_end(lines: list[str], start: int) -> int:
    for k in range(start, len(lines)):
        if FENCE_CLOSE.match(lines[k]):
            return k
    return len(lines) - 1


def _parse_block(
    lines: list[str], open_at: int, path_at: int | None, marker_at: int
) -> tuple[FileEdit, int]:
    if path_at is None:
        raise _BlockError(open_at + 1, "the block has no file path on a line before its ```")
    path = clean_path(lines[path_at])
    if path is None:
        raise _BlockError(
            path_at + 1,
            f"{lines[path_at].strip()!r} is not a file path; put the path alone on the "
            "line before the ``` (wrap it in backticks if it contains spaces)",
        )
    for k in range(open_at + 1, marker_at):
        if lines[k].strip():
            raise _BlockError(
                k + 1,
                "unexpected text before the first marker in the block "
                "(the path goes alone on the line before the opening ```)",
            )
    action: Literal["edit", "delete", "rename"] = "edit"
    new_path: str | None = None
    sections: list[Section] = []
    k = marker_at
    if DELETE.match(lines[k]):
        action = "delete"
        k += 1
    elif m := RENAME.match(lines[k]):
        new_path = clean_path(m.group(1) or "")
        if new_path is None:
            raise _BlockError(k + 1, "RENAME TO needs the new path after it on the same line")
        action = "rename"
        k += 1
    while k < len(lines):
        line = lines[k]
        if FENCE_CLOSE.match(line):
            if action == "edit" and not sections:
                raise _BlockError(k + 1, "the block has no SEARCH/REPLACE section")
            return FileEdit(path, action, tuple(sections), new_path, path_at + 1), k
        if not line.strip():
            k += 1
        elif SEARCH.match(line) and action != "delete":
            section, k = _parse_section(lines, k)
            sections.append(section)
        elif action == "delete":
            raise _BlockError(k + 1, "a DELETE FILE block must hold nothing else")
        else:
            raise _BlockError(
                k + 1, f"expected '<<<<<<< SEARCH' or a closing ```, found {line.strip()[:60]!r}"
            )
    raise _BlockError(open_at + 1, f"the block for {path} is never closed with ```")


def _parse_section(lines: list[str], start: int) -> tuple[Section, int]:
    search: list[str] = []
    replace: list[str] = []
    part = search
    fence_inside: int | None = None
    for k in range(start + 1, len(lines)):
        line = lines[k]
        if part is search and DIVIDER.match(line):
            part = replace
        elif part is replace and REPLACE.match(line):
            return Section(_text(search), _text(replace), start + 1), k + 1
        elif part is replace and DIVIDER.match(line):
            raise _BlockError(k + 1, "a second '=======' in one section")
        elif ANY_MARKER.match(line):
            expected = "'======='" if part is search else "'>>>>>>> REPLACE'"
            raise _BlockError(k + 1, f"{line.strip()!r} found where {expected} was expected")
        else:
            if fence_inside is None and FENCE_CLOSE.match(line):
                fence_inside = k + 1
            part.append(line)
    expected = "'======='" if part is search else "'>>>>>>> REPLACE'"
    hint = f" (the ``` at line {fence_inside} closes the block too early)" if fence_inside else ""
    raise _BlockError(start + 1, f"the section starting here never reaches {expected}{hint}")


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- applying


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


def render_repair_message(problems: Sequence[EditProblem]) -> str:
    """The message sent back to the model for its one repair round."""
    listed = "\n".join(f"- {p.render()}" for p in problems)
    return (
        "Your answer could not be applied, so nothing was changed.\n\n"
        f"Problems:\n{listed}\n\n"
        "Send the complete answer again with these fixed: every edit, not only the failing "
        "ones. Use the same format: the file's path alone on a line, then a fenced block "
        "with `<<<<<<< SEARCH`, the exact current lines, `=======`, the new lines, and "
        "`>>>>>>> REPLACE`. Copy SEARCH lines exactly from the file, with enough context "
        "that each SEARCH matches exactly once. An empty SEARCH creates a new file."
    )
