"""The edit format the model answers in, and parsing it (pure, no I/O).

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
answer line it was found on, so the model can repair it. Applying the parsed edits to file
contents, including the whitespace-tolerant fallback when an exact SEARCH match fails, is
`bot.core.edit_apply`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
        return f"{shown(self.path)}: {self.reason}{where}"

    def brief(self) -> str:
        """`path: reason` (or the reason alone) for a status line, with the path shown."""
        return f"{shown(self.path)}: {self.reason}" if self.path else self.reason


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


MAX_SHOWN_CHARS = 200


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """Model-written text (a path, a line) as it may appear in a message: characters that
    are not printable escaped and the rest cut, so a NUL byte or a 6,000-character path
    neither breaks a line nor fills a comment."""
    cut = text[:limit]
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return escaped if len(text) <= limit else f"{escaped}… ({len(text):,} characters)"


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
                    f"{shown(line.strip())!r} is outside a fenced block; write the path on its own "
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
            f"{shown(lines[path_at].strip())!r} is not a file path; put the path alone on the "
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
    raise _BlockError(open_at + 1, f"the block for {shown(path)} is never closed with ```")


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
            raise _BlockError(k + 1, f"{shown(line.strip())!r} found where {expected} was expected")
        else:
            if fence_inside is None and FENCE_CLOSE.match(line):
                fence_inside = k + 1
            part.append(line)
    expected = "'======='" if part is search else "'>>>>>>> REPLACE'"
    hint = f" (the ``` at line {fence_inside} closes the block too early)" if fence_inside else ""
    raise _BlockError(start + 1, f"the section starting here never reaches {expected}{hint}")


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
