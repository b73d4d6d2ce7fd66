"""A model's grouping of an issue's items into tasks (`llm_plan: true`), checked against the
rules every plan keeps. Pure: no I/O.

The items are those rules 1-4 of `bot.core.decompose` find (task-list items, a work list's
items), numbered by their ordinals, with the issue's criteria numbered after them and the
checked (done) items shown for what they are. The model answers with JSON naming item
numbers only: which items make each task (its main change first) and which items' tasks
must be merged before it. Its answer is data: nothing but those numbers is taken from it, so
no text of the model's becomes a title, a path or a command. An answer is used only when
every open item is placed exactly once, no unknown, criterion or done item is named, no task
is empty, the dependencies form no cycle and there are at most `max_tasks` tasks; otherwise
`check_grouping` says in one clause what was wrong and the rule-based plan is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.decompose import (
    MAX_DEPENDENCIES,
    Decomposition,
    IssueParts,
    PlannedTask,
    Source,
    body_of,
    issue_parts,
    task_title,
)
from bot.core.grouping import quoted

MAX_ITEMS = 60  # more open items than this are planned by the rules alone
ITEM_CHARS = 300  # of an item's text shown to the model

Role = Literal["open", "done", "criterion"]


@dataclass(frozen=True)
class PlanItem:
    number: int
    role: Role
    text: str  # the item's text with its nested items, on one line, clipped


@dataclass(frozen=True)
class GroupingInput:
    parts: IssueParts
    items: list[PlanItem]
    skip: str | None  # why the model is not asked (None: ask it)

    @property
    def open(self) -> list[int]:
        return [i.number for i in self.items if i.role == "open"]


@dataclass(frozen=True)
class Grouping:
    """A valid answer: each task's items (its lead first) and the leads it depends on."""

    tasks: list[tuple[list[int], list[int]]]


# The answer's shape, for providers that constrain output to a JSON schema (strict mode:
# every property required, no others).
GROUPING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": {"type": "integer"}},
                    "depends_on": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["items", "depends_on"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["tasks"],
    "additionalProperties": False,
}


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ITEM_CHARS else text[: ITEM_CHARS - 1].rstrip() + "…"


def grouping_input(title: str, body: str, labels: list[str], issue_number: int) -> GroupingInput:
    """The items a model would group, or why it is not asked."""
    parts = issue_parts(title, body, labels, issue_number, follow_ups=False)
    doc, sel = parts.doc, parts.sel
    items = [
        PlanItem(c.ordinal, "done" if c.item.checked else "open", _one_line(body_of(doc, c.item)))
        for c in sel.candidates
    ]
    first = len(sel.candidates) + 1
    items += [
        PlanItem(first + k, "criterion", _one_line(c.title)) for k, c in enumerate(sel.criteria)
    ]
    opened = sum(1 for i in items if i.role == "open")
    skip = None
    if opened == 0:
        skip = "there are no open items to group"
    elif opened == 1:
        skip = "there is one open item, so one task"
    elif opened > MAX_ITEMS:
        skip = f"{opened} open items are more than the {MAX_ITEMS} a model is asked to group"
    return GroupingInput(parts, items, skip)


class _Refused(Exception):
    pass


def _numbers(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in value
    ):
        raise _Refused(
            'the answer is not the JSON asked for ({"tasks": [{"items", "depends_on"}]})'
        )
    return value


def _check_number(n: int, given: dict[int, PlanItem], what: str) -> None:
    item = given.get(n)
    if item is None:
        raise _Refused(f"it names {what}{n}, which the issue does not have")
    if item.role == "criterion":
        raise _Refused(
            f"it makes criterion {n} ({quoted(item.text, 40)}) work: criteria stay criteria"
        )
    if item.role == "done":
        raise _Refused(f"it plans item {n} ({quoted(item.text, 40)}), which is checked (done)")


def _cycle(deps: dict[int, list[int]]) -> list[int] | None:
    """A cycle among the tasks (by lead), or None."""
    state: dict[int, int] = {}  # 1: on the path, 2: done
    for start in deps:
        if state.get(start):
            continue
        path, todo = [start], [iter(deps[start])]
        state[start] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(deps[nxt]))
    return None


def check_grouping(text: str, given: GroupingInput, max_tasks: int) -> Grouping | str:
    """The model's answer as a grouping, or what is wrong with it (a clause for a why-line)."""
    try:
        return _check(text, given, max_tasks)
    except _Refused as refused:
        return str(refused)


def _check(text: str, given: GroupingInput, max_tasks: int) -> Grouping:
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):
        raise _Refused("the answer is not JSON") from None
    raw = answer.get("tasks") if isinstance(answer, dict) else None
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise _Refused(
            'the answer is not the JSON asked for ({"tasks": [{"items", "depends_on"}]})'
        )
    items = {i.number: i for i in given.items}
    groups = [_numbers(t.get("items")) for t in raw]
    owner: dict[int, int] = {}  # item -> the lead of its task
    for group in groups:
        if not group:
            raise _Refused("it has a task without items")
        for n in group:
            _check_number(n, items, "item ")
            if n in owner:
                raise _Refused(f"it places item {n} twice")
            owner[n] = group[0]
    missing = [n for n in given.open if n not in owner]
    if missing:
        left = items[missing[0]]
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise _Refused(f"it leaves out item {left.number} ({quoted(left.text, 40)}){more}")
    if len(groups) > max_tasks:
        raise _Refused(
            f"it makes {len(groups)} tasks; the limit is {max_tasks} (`max_tasks_per_issue`)"
        )
    deps: dict[int, list[int]] = {}
    for group, task in zip(groups, raw, strict=True):
        lead, needs = group[0], []
        for n in _numbers(task.get("depends_on")):
            _check_number(n, items, "a dependency on item ")
            if owner[n] == lead:
                raise _Refused(f"the task of item {lead} depends on itself")
            if owner[n] not in needs:
                needs.append(owner[n])
        deps[lead] = needs[:MAX_DEPENDENCIES]
    cycle = _cycle(deps)
    if cycle:
        raise _Refused(f"its dependencies form a cycle (tasks {' → '.join(map(str, cycle))})")
    return Grouping([(group, sorted(deps[group[0]])) for group in groups])


def grouped_decomposition(
    given: GroupingInput, grouping: Grouping, repo: str, issue_number: int, model: str
) -> Decomposition:
    """The tasks of a valid grouping, with the rules' criteria, skipped items and notes."""
    parts = given.parts
    doc, by_ordinal = parts.doc, {c.ordinal: c for c in parts.sel.candidates}
    tasks: list[PlannedTask] = []
    joins: list[str] = []
    for group, needs in sorted(grouping.tasks, key=lambda t: t[0][0]):
        lead, rest = by_ordinal[group[0]], [by_ordinal[n] for n in group[1:]]
        body = body_of(doc, lead.item)
        if rest:
            extra = ["- " + body_of(doc, c.item).replace("\n", "\n  ").rstrip() for c in rest]
            body += "\n\nTogether with:\n" + "\n".join(extra)
            shown = ", ".join(f"{c.ordinal} {quoted(c.item.title, 50)}" for c in rest[:3])
            more = f" and {len(rest) - 3} more" if len(rest) > 3 else ""
            joins.append(
                f"Task {group[0]} also takes item{'s' if len(rest) > 1 else ''} {shown}{more}."
            )
        title = task_title(lead.item.title)
        tasks.append(
            PlannedTask(
                key=f"{repo}#{issue_number}/{group[0]}",
                ordinal=group[0],
                title=title,
                body=body,
                type=parts.task_type(title),
                depends_on=needs,
                criteria=parts.criteria,
                items=list(group),
            )
        )
    count = f"{len(tasks)} task{'s' if len(tasks) > 1 else ''}"
    reasons = [
        f"{count}: {model} grouped the {len(given.open)} open items (`llm_plan`), each task a "
        "change that can be reviewed and merged on its own.",
        *joins,
        *parts.sel.reasons,
    ]
    listed = any(c.item.checked is not None for c in parts.sel.candidates)
    source: Source = "task_list" if listed else "headed_list"
    return Decomposition(
        tasks,
        source,
        parts.done,
        criteria=parts.criteria,
        skipped=parts.skipped,
        reasons=reasons,
    )


@dataclass(frozen=True)
class GroupingOutcome:
    """What became of asking a model to group the items: its grouping, or the why-line of
    the rule-based plan used instead."""

    model: str | None
    given: GroupingInput | None = None
    grouping: Grouping | None = None
    why: str | None = None
