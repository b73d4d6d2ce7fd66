"""Ticking a task's checklist items in the issue body, leaving every other byte as it was.

The items are the ones `core.decompose` planned the task from: the task's own task-list item
and the items that joined it (its tests, its documentation), found by the same reading of
the issue (`read_issue`), so ordinals can never disagree."""

from __future__ import annotations

import re

from bot.core.decompose import read_issue

_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
# One or more list markers ("- ", "1. - "), then the unchecked box.
_UNCHECKED = re.compile(r"^((?:[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+)+\[) (\])")


def tick_task_item(body: str, ordinal: int) -> str | None:
    """The body with task `ordinal`'s unchecked items ticked, or None when there is no such
    task item left unchecked."""
    _doc, selection = read_issue(body)
    lines = [
        c.item.line
        for c in selection.candidates
        if c.item.checked is False and (c.ordinal == ordinal or c.joins == ordinal)
    ]
    if not lines:
        return None
    parts = _LINE_BREAK.split(body)  # text, break, text, …: line i is parts[2 * i]
    changed = False
    for line in lines:
        index = 2 * line
        if index >= len(parts):
            continue
        ticked, count = _UNCHECKED.subn(r"\1x\2", parts[index], count=1)
        if count:
            parts[index], changed = ticked, True
    return "".join(parts) if changed else None
