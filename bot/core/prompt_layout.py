"""Layout defects of a rendered prompt: what Jinja whitespace control can do to Markdown. Pure.

A template's `{%- … %}` eats the newline before it, so two rules of a list reach the model
on one line (`- Never edit .git/.- Never edit these paths: …`); a section whose content is
all behind an `{% if %}` can render as a bare heading. `issuewright prompts check` renders
every template with sample data and reports each defect with the line it is on:

- **run-together items**: a line holding a list item glued to the sentence before it
  (`… done.- Next rule`, `Steps:1. Run it`);
- **empty section**: a heading followed, blank lines aside, by a heading of the same or a
  higher level, or by the end of the prompt.

Code blocks (the edit-format examples, the code context) and untrusted-data blocks (the
issue as its author wrote it) are not the template's layout and are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.sanitize import FENCE_TAG

# A list marker right after the end of a sentence or a colon, on the same line: `.- `,
# `: - `, `.* `, `)1. `. A dash between words (`a - b`) is not one: it follows a letter.
_GLUED = re.compile(r"[.!?:;)]\s*(?:[-*+]|\d{1,3}[.)])[ \t]+(?=\S)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+\S")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_DATA_OPEN = re.compile(rf"^\s*<{FENCE_TAG}( [^>\n]*)?>")  # the fence, not a mention of it
_DATA_CLOSE = f"</{FENCE_TAG}>"


@dataclass(frozen=True)
class LayoutDefect:
    line: int  # 1-based, in the rendered text
    kind: str  # "run-together items" | "empty section"
    text: str  # the line, shortened
    anchor: str  # the glued item or the heading: what to look for in the template source

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.text!r}"


def layout_defects(text: str) -> list[LayoutDefect]:
    """Every run-together list item and empty section of *text*, in line order."""
    defects: list[LayoutDefect] = []
    open_heading: tuple[int, int, str] | None = None  # (line, level, text) with no content yet
    for number, line in _layout_lines(text):
        if line is None:  # inside a code or data block: content of the section it is in
            open_heading = None
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if open_heading is not None and level <= open_heading[1]:
                defects.append(_empty(open_heading))
            open_heading = (number, level, line)
            continue
        if line.strip():
            open_heading = None
        glued = _GLUED.search(line)
        if glued:
            item = line[glued.end() :]
            item = item[: m.start() + 1] if (m := _GLUED.search(item)) else item
            defects.append(LayoutDefect(number, "run-together items", _short(line), item))
    if open_heading is not None:
        defects.append(_empty(open_heading))
    return sorted(defects, key=lambda d: d.line)


def _empty(heading: tuple[int, int, str]) -> LayoutDefect:
    return LayoutDefect(heading[0], "empty section", _short(heading[2]), heading[2])


def _layout_lines(text: str) -> list[tuple[int, str | None]]:
    """(line number, line), the line None inside fenced code and untrusted-data blocks."""
    out: list[tuple[int, str | None]] = []
    fence = ""  # the opening fence while inside one
    in_data = False
    for number, line in enumerate(text.split("\n"), start=1):
        if in_data:
            in_data = _DATA_CLOSE not in line
            out.append((number, None))
            continue
        if fence:
            mark = _FENCE.match(line)
            if mark and mark.group(1)[0] == fence[0] and len(mark.group(1)) >= len(fence):
                if not line.strip().strip(fence[0]):
                    fence = ""
            out.append((number, None))
            continue
        if _DATA_OPEN.search(line):
            in_data = _DATA_CLOSE not in line
            out.append((number, None))
            continue
        mark = _FENCE.match(line)
        if mark:
            fence = mark.group(1)
            out.append((number, None))
            continue
        out.append((number, line))
    return out


def source_line(source: str, rendered: str) -> int | None:
    """The line of a template's *source* that a piece of *rendered* text most likely comes
    from: the one line holding its longest literal run of words (values rendered into it are
    not in the source); None when no run of two words or more is on exactly one line."""
    words = rendered.split()[:30]
    rows = [" ".join(row.split()) for row in source.split("\n")]
    for size in range(len(words), 1, -1):
        for start in range(len(words) - size + 1):
            run = " ".join(words[start : start + size])
            hits = [i for i, row in enumerate(rows, start=1) if run in row]
            if len(hits) == 1:
                return hits[0]
    return None


def _short(line: str, limit: int = 100) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"
