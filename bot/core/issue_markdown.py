"""An issue body's structure as GitHub shows it: headings, lists with their nesting, task
items with their checked state, code blocks, quotes, HTML comments and tables. Pure: no I/O.

markdown-it-py parses the blocks (CommonMark plus tables, the block grammar GitHub renders
issues with), so a fence, an indented code block, a quote or an unterminated `<!--` hides
exactly what it hides on GitHub. Inline rules are off: text is kept as written (and a 64 KB
body parses in a fraction of a second). Filled-in issue templates open sections with a bold
line (`**Expected behavior**`) or a short `Text:` line as often as with headings, so a
top-level paragraph line of either shape is a pseudo-heading (levels 7 and 8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

BlockKind = Literal["paragraph", "heading", "list", "code", "quote", "comment", "html", "table"]

_MD = MarkdownIt("commonmark").enable("table")
# Block structure only: inline text stays as written, and link reference definitions (which
# only feed inline links) are left as paragraphs.
_MD.disable(["inline", "text_join", "reference"])

_CHECKBOX = re.compile(r"^\[(?P<mark>[ xX])\](?:[ \t]+|$)")
_MARKER = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?P<gap> *)")
_BOLD_LINE = re.compile(r"^(?:\*\*|__)(?P<text>[^*_]{1,80}?)(?:\*\*|__) *:? *$")
_COLON_LINE = re.compile(r"^(?P<text>[^\W\d][^:`|]{0,60}):$")


@dataclass(frozen=True)
class Heading:
    level: int  # 1-6: ATX or setext; 7: a bold line; 8: a `Text:` line
    text: str  # as written
    line: int


@dataclass(frozen=True)
class Block:
    """A top-level block (outside lists and quotes, apart from `list` and `quote`)."""

    kind: BlockKind
    line: int
    end: int  # one past its last line
    text: str  # paragraph or heading text, code, comment or HTML source, table cells
    headings: tuple[Heading, ...]  # the headings in force, outermost first
    info: str = ""  # a fence's info string


@dataclass(eq=False)
class Item:
    line: int  # its first line, 0-based
    end: int  # one past its last line
    ordered: bool
    checked: bool | None  # None: a plain item; True/False: a task item
    text: str  # its first paragraph, checkbox removed ("" when it starts with another block)
    parent: Item | None
    list_id: int  # the items of one list share it
    headings: tuple[Heading, ...]
    lead_in: str  # the paragraph right before its list, in the same container ("" if none)
    in_quote: bool
    children: list[Item] = field(default_factory=list)

    @property
    def title(self) -> str:
        return " ".join(self.text.split("\n", 1)[0].split())

    def ancestors(self) -> list[Item]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


@dataclass
class IssueDoc:
    lines: list[str]
    blocks: list[Block]
    items: list[Item]  # every list item, in document order
    headings: list[Heading]

    def source(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end])

    def body_of(self, item: Item) -> str:
        """The item's text and every line that belongs to it (nested items, code), dedented
        to its content column, its list marker and checkbox removed."""
        first = self.lines[item.line].expandtabs(4)
        marker = _MARKER.match(first)
        if marker is None:  # inside a quote or a container markdown-it saw but we do not
            return item.text
        gap = len(marker["gap"])
        column = marker.end("marker") + (gap if 1 <= gap <= 4 else min(gap, 1))
        head = first[column:]
        if item.checked is not None:
            head = _CHECKBOX.sub("", head, count=1)
        out = [head.rstrip()]
        for raw in self.lines[item.line + 1 : item.end]:
            line = raw.expandtabs(4)
            indent = len(line) - len(line.lstrip(" "))
            out.append(line[min(indent, column) :].rstrip())
        while len(out) > 1 and not out[-1].strip():
            out.pop()
        return "\n".join(out)


def pseudo_heading(line: str) -> tuple[int, str] | None:
    """(level, text) when a paragraph line opens a section as a heading would."""
    stripped = line.strip()
    if bold := _BOLD_LINE.match(stripped):
        return 7, bold["text"]
    if colon := _COLON_LINE.match(stripped):
        return 8, colon["text"]
    return None


class _Walk:
    """One pass over markdown-it's token stream, keeping the containers that are open."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.doc = IssueDoc(lines, [], [], [])
        self.open_items: list[Item] = []
        self.lists: list[tuple[int, bool, str]] = []  # (id, ordered, lead-in) per open list
        self.quotes = 0
        self.heading_stack: list[Heading] = []
        self.last_paragraph: list[str] = [""]  # per container depth: the paragraph just seen
        self.list_count = 0

    def push_heading(self, level: int, text: str, line: int) -> None:
        while self.heading_stack and self.heading_stack[-1].level >= level:
            self.heading_stack.pop()
        heading = Heading(level, text.strip(), line)
        self.heading_stack.append(heading)
        self.doc.headings.append(heading)

    def top_level(self) -> bool:
        return not self.open_items and not self.quotes

    def block(self, kind: BlockKind, token: Token, text: str, info: str = "") -> None:
        if self.top_level() or kind in ("list", "quote"):
            start, end = token.map or (0, 0)
            self.doc.blocks.append(Block(kind, start, end, text, tuple(self.heading_stack), info))

    def run(self, tokens: list[Token]) -> IssueDoc:
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                if not self.open_items and not self.quotes:
                    self.block("list", token, "")
                self.list_count += 1
                ordered = kind == "ordered_list_open"
                self.lists.append((self.list_count, ordered, self.last_paragraph[-1]))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                self.last_paragraph[-1] = ""
            elif kind == "list_item_open":
                i = self.open_item(tokens, i)
                continue
            elif kind == "list_item_close":
                self.open_items.pop()
                self.last_paragraph.pop()
            elif kind == "blockquote_open":
                if self.top_level():
                    self.block("quote", token, self.source(token))
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
                self.last_paragraph[-1] = ""
            elif kind == "heading_open":
                text = tokens[i + 1].content if i + 1 < len(tokens) else ""
                if not self.quotes:
                    self.push_heading(int(token.tag[1]), text, (token.map or (0, 0))[0])
                self.block("heading", token, text)
                self.last_paragraph[-1] = ""
                i += 3
                continue
            elif kind == "paragraph_open":
                text = tokens[i + 1].content if i + 1 < len(tokens) else ""
                self.paragraph(token, text)
                i += 3
                continue
            elif kind in ("fence", "code_block"):
                self.block("code", token, token.content, token.info.strip())
                self.last_paragraph[-1] = ""
            elif kind == "html_block":
                comment = token.content.lstrip().startswith("<!--")
                self.block("comment" if comment else "html", token, token.content)
            elif kind == "table_open":
                i = self.table(tokens, i)
                continue
            i += 1
        return self.doc

    def source(self, token: Token) -> str:
        start, end = token.map or (0, 0)
        return "\n".join(self.lines[start:end])

    def paragraph(self, token: Token, text: str) -> None:
        self.block("paragraph", token, text)
        self.last_paragraph[-1] = text
        if self.top_level():
            start = (token.map or (0, 0))[0]
            for offset, line in enumerate(text.split("\n")):
                if found := pseudo_heading(line):
                    self.push_heading(found[0], found[1], start + offset)

    def open_item(self, tokens: list[Token], i: int) -> int:
        token = tokens[i]
        start, end = token.map or (0, 0)
        list_id, ordered, lead_in = self.lists[-1]
        text, checked = "", None
        if tokens[i + 1].type == "paragraph_open" and i + 2 < len(tokens):
            text = tokens[i + 2].content
            if box := _CHECKBOX.match(text):
                checked = box["mark"] != " "
                text = text[box.end() :]
        parent = self.open_items[-1] if self.open_items else None
        item = Item(
            line=start,
            end=end,
            ordered=ordered,
            checked=checked,
            text=text.strip(),
            parent=parent,
            list_id=list_id,
            headings=tuple(self.heading_stack),
            lead_in=lead_in,
            in_quote=self.quotes > 0,
        )
        if parent is not None:
            parent.children.append(item)
        self.doc.items.append(item)
        self.open_items.append(item)
        self.last_paragraph.append("")
        if tokens[i + 1].type == "paragraph_open":
            self.last_paragraph[-1] = tokens[i + 2].content
            return i + 4  # past the item's first paragraph
        return i + 1

    def table(self, tokens: list[Token], i: int) -> int:
        start = tokens[i]
        rows: list[str] = []
        cells: list[str] = []
        while i < len(tokens) and tokens[i].type != "table_close":
            if tokens[i].type == "inline":
                cells.append(tokens[i].content.strip())
            elif tokens[i].type == "tr_close":
                rows.append(" | ".join(cells))
                cells = []
            i += 1
        self.block("table", start, "\n".join(rows))
        self.last_paragraph[-1] = ""
        return i + 1


def parse_issue(text: str) -> IssueDoc:
    """The structure of `text` (newlines already normalised to `\\n`)."""
    lines = text.split("\n")
    return _Walk(lines).run(_MD.parse(text))
