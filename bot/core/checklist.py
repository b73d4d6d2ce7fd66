"""Ticking a task's checklist item in the issue body, leaving every other byte as it was.

Ordinals count top-level task-list items (checked ones included), outside code fences and
HTML comments — the same items `core.decompose` numbers."""

from __future__ import annotations

import re

_ITEM = re.compile(r"^( {0,3}[-*+] \[)( |x|X)(\] )")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _items(lines: list[str]) -> list[tuple[int, re.Match[str]]]:
    """Task-list items outside fences and HTML comments: (line index, match)."""
    found = []
    fence: str | None = None
    in_comment = False
    for i, line in enumerate(lines):
        stripped = line.rstrip("\r\n")
        if in_comment:
            in_comment = "-->" not in stripped
            continue
        match = _FENCE.match(stripped)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            continue
        if match:
            fence = match.group(1)
            continue
        if "<!--" in stripped and "-->" not in stripped.split("<!--", 1)[1]:
            in_comment = True
        item = _ITEM.match(stripped)
        if item is not None:
            found.append((i, item))
    return found


def tick_task_item(body: str, ordinal: int) -> str | None:
    """The body with item `ordinal` ticked, or None when there is no such unticked item."""
    lines = body.splitlines(keepends=True)
    items = _items(lines)
    if not items:
        return None
    top = min(len(m.group(1)) for _, m in items)  # nested items are indented further
    top_level = [(i, m) for i, m in items if len(m.group(1)) == top]
    if not 1 <= ordinal <= len(top_level):
        return None
    i, item = top_level[ordinal - 1]
    if item.group(2) != " ":
        return None
    lines[i] = item.group(1) + "x" + lines[i][item.end(2) :]
    return "".join(lines)
