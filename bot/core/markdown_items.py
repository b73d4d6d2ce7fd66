"""The list items of an issue's Markdown, with their nesting and the heading they sit under.

A CommonMark-ish line scanner, just enough for issue bodies: ATX and setext headings, bold
lines and `Text:` lines as pseudo-headings, fences, indented code and block quotes (never
items), and nested bullet, numbered and task-list items with lazy continuation lines. Each
item records whether the innermost telling heading above it names work ("Tasks", "Plan", …)
or report details ("Steps to reproduce", "Environment", …). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Headings are matched with the same word normalization as task titles.
from bot.core.task_types import norm


@dataclass
class ListItem:
    start: int
    indent: int
    threshold: int  # a line indented at least this much belongs to the item
    ordered: bool
    check: str | None  # None: plain item; " " or "x": task-list item
    text: str
    parent: ListItem | None
    list_key: tuple[object, ...]
    section: str | None  # "work", "other" or None (no heading decides)
    end: int = -1


_ITEM = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?P<gap> +|$)(?P<rest>.*)$")
_CHECK = re.compile(r"^\[(?P<c>[ xX])\](?: +|$)(?P<text>.*)$")
_ATX = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?: +(?P<text>.*?))?(?: +#+)? *$")
_SETEXT = re.compile(r"^ {0,3}(?P<ch>=+|-+) *$")
_HR = re.compile(r"^ {0,3}(?:(?:- *){3,}|(?:\* *){3,}|(?:_ *){3,})$")
_FENCE = re.compile(r"^(?P<f>`{3,}|~{3,})")
_BOLD_LINE = re.compile(r"^(?:\*\*|__)(?P<t>[^*_]{1,80}?)(?:\*\*|__):? *$")
_COLON_LINE = re.compile(r"^(?P<t>[^\W\d][^:`|]{0,60}):$")

_WORK = re.compile(
    r"\btasks?\b|\bto-?dos?\b|\bto do\b|\bplan\b|acceptance criteria|definition of done"
    r"|steps to implement|^implementation\b|implementation (?:steps|plan)|work items?"
    r"|action items?|sub-?tasks|deliverables|requirements|checklist|milestones|next steps"
    r"|roadmap|proposed changes|changes (?:needed|required|to make)|what needs to",
)
_OTHER = re.compile(
    r"reproduc|\brepro\b|\bexpected\b|\bactual\b|current behaviou?r|observed|what happened"
    r"|environment|system (?:info|requirements)|traceback|stack ?trace"
    r"|error (?:message|output|logs?)|screenshot|code of conduct|prerequisite"
    r"|before (?:submitting|opening)|pre-?flight"
    r"|existing issue|duplicate|\bterms\b|\bconfirm|alternatives?|workaround|\bwhich\b"
    r"|\baffected\b|priority|severity|\bwilling\b|like to contribute|contributing guidelines"
    r"|^(?:[\w.-]+ )?(?:versions?|platforms?|os|operating systems?|browsers?|devices?|logs?"
    r"|output|errors?)(?: (?:info|information|used|details|number|message|output))?$",
)


def _section(headings: list[tuple[int, str]]) -> str | None:
    # The innermost heading that says something decides: "## Tasks" > "### Backend" is work.
    for _level, text in reversed(headings):
        if _OTHER.search(text):
            return "other"
        if _WORK.search(text):
            return "work"
    return None


def parse_items(lines: list[str]) -> list[ListItem]:
    """Every list item in document order, outside code, quotes and fences."""
    items: list[ListItem] = []
    stack: list[ListItem] = []  # open list items, innermost last
    headings: list[tuple[int, str]] = []  # levels 1-6 ATX/setext, 7 bold line, 8 "Text:"
    fence: str | None = None
    segment = 0  # root lists separated by other content are different lists
    prev_blank, prev_para, in_icode = True, False, False

    def close(i: int, indent: int | None = None) -> None:
        # indent None closes everything; otherwise the items this line is not indented under.
        while stack and (indent is None or indent < stack[-1].threshold):
            stack.pop().end = i

    def push_heading(level: int, text: str) -> None:
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, norm(text)))

    for i, raw in enumerate(lines):
        line = raw.expandtabs(4)
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if fence is not None:  # inside a fence: belongs to whatever holds the fence
            if body.startswith(fence) and not body.strip().strip(fence[0]):
                fence = None
            continue
        if not body.strip():
            prev_blank, prev_para = True, False
            continue
        if not stack and indent >= 4 and (prev_blank or in_icode):
            in_icode = True  # indented code block: never items
            continue
        in_icode = False
        was_blank, was_para = prev_blank, prev_para
        prev_blank, prev_para = False, False
        setext = _SETEXT.match(line)
        if setext and was_para and not stack:
            push_heading(1 if setext["ch"][0] == "=" else 2, lines[i - 1])
            segment += 1
            continue
        atx = None if _HR.match(line) else _ATX.match(line)
        if atx or _HR.match(line):  # headings and rules end every list
            close(i)
            segment += 1
            if atx:
                push_heading(len(atx["hashes"]), atx["text"] or "")
            continue
        if (m := _ITEM.match(line)) and not body.startswith(">"):
            close(i, indent)
            parent = stack[-1] if stack else None
            gap = len(m["gap"])
            content = indent + len(m["marker"]) + (gap if 1 <= gap <= 4 else 1)
            check = _CHECK.match(m["rest"])
            ordered = m["marker"][0].isdigit()
            item = ListItem(
                start=i,
                indent=indent,
                threshold=min(content, indent + 2),
                ordered=ordered,
                check=check["c"].lower() if check else None,
                text=(check["text"] if check else m["rest"]).strip(),
                parent=parent,
                list_key=(id(parent), ordered) if parent else ("root", segment, ordered),
                section=_section(headings),
            )
            items.append(item)
            stack.append(item)
            continue
        # Paragraph text, a fence opener or a quote. After a blank line it ends every item
        # it is not indented under; right after an item line it is a lazy continuation.
        if was_blank or body.startswith(">"):
            close(i, indent)
        if f := _FENCE.match(body):
            fence = f["f"]
        if stack:
            continue
        segment += 1
        if fence is not None or body.startswith(">"):
            continue
        prev_para = True
        if bold := _BOLD_LINE.match(body):  # pseudo-headings: "**Tasks**" and "Tasks:"
            push_heading(7, bold["t"])
        elif colon := _COLON_LINE.match(body.strip()):
            push_heading(8, colon["t"])
    close(len(lines))
    return items


def body_of(item: ListItem, lines: list[str]) -> str:
    """The item's text and the lines that belong to it, dedented to its content column."""
    out = [item.text]
    for raw in lines[item.start + 1 : item.end]:
        line = raw.expandtabs(4)
        indent = len(line) - len(line.lstrip(" "))
        out.append(line[min(indent, item.threshold) :].rstrip())
    while len(out) > 1 and not out[-1].strip():
        out.pop()
    return "\n".join(out)
