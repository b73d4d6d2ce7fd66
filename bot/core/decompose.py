"""Split an issue into atomic tasks. Pure: no I/O.

Rules, in order (the first that yields items wins):

1. Task list: top-level `- [ ]` / `- [x]` items (a task item with no task item above it;
   nested items belong to their parent's body). Checked items are done: they get an ordinal
   but no task, so ticking item 1 never renumbers item 2 and task keys stay stable when the
   app ticks items on merge. Dependencies on a done item are dropped (already satisfied).
2. Headed list: top-level numbered or bulleted items under a heading that names work
   ("Tasks", "TODO", "Plan", "Acceptance criteria", …; ATX, setext, a bold line or `Tasks:`).
3. The whole issue as one task.

Never tasks: items inside code fences, indented code, block quotes or HTML comments; task
items under a heading that names report details (steps to reproduce, expected/actual
behaviour, environment, logs, code of conduct, …); issue-template confirmations
("I have searched the existing issues"); items that only reference another issue or a URL
(tracking lists: that work has its own issue).

Ordinals are positions among the items of the chosen rule, 1-based, in document order.
Dependencies: explicit text in the item ("after 1", "depends on task 2", "blocked by step
3") refers to those ordinals; `#2` is an issue reference, not a task. Items without explicit
text in an ordered list depend on the nearest open item before them in the same list; bullet
and task lists are independent. An edge that would close a cycle is dropped.

Finding the list items and their headings is `bot.core.markdown_items`; each task's type
(labels, then words) is `bot.core.task_types`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.core.markdown_items import ListItem, body_of, parse_items
from bot.core.sanitize import strip_html_comments, strip_invisible

# Re-exported: tests import TASK_TYPES from here, where it lived before task_types.py.
from bot.core.task_types import TASK_TYPES as TASK_TYPES
from bot.core.task_types import (
    TaskType,
    choose_type,
    issue_words_type,
    norm,
    types_from_labels,
    words_type,
)

Source = Literal["task_list", "headed_list", "whole_issue"]
TITLE_MAX = 120
MAX_DEPENDENCIES = 32  # per task; more is a list of everything, not an order of work


@dataclass(frozen=True)
class PlannedTask:
    key: str  # f"{repo}#{issue_number}/{ordinal}": stable across re-labels and edits
    ordinal: int
    title: str
    body: str
    type: TaskType
    depends_on: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Decomposition:
    tasks: list[PlannedTask]
    source: Source
    done: list[int] = field(default_factory=list)  # ordinals of checked task-list items
    too_many: bool = False
    message: str | None = None  # for the status comment: too many tasks, or nothing left


_CONFIRMATION = re.compile(
    r"^(?:i|i'm|i've|i'd|i am|i have|i will|we|we've|we have|my)\b|code of conduct"
    r"|existing (?:issues|discussions|bug reports)|not a duplicate|no duplicates?\b"
    r"|contributing guidelines|\bsearched\b|\bterms of\b"
    # What a bug report should contain (pytest's template and many like it), not work:
    r"|detailed description|pip (?:list|freeze)|conda list|minimal (?:\w+ )?example"
    r"|reproducible example|\bmcve\b|\breprex\b|operating system versions?|if possible$",
)
_REF_ONLY = re.compile(r"^(?:[\w.-]+/[\w.-]+)?#\d+\s*$|^<?https?://\S+>?\s*$")
_KW = r"(?:tasks?|steps?|items?)\s*#?\s*"
_DEP = re.compile(
    r"\b(?:after|depends? on|dependent on|blocked by|requires|once|following)\s*:?\s+"
    rf"(?P<kw>{_KW})?(?P<nums>\d{{1,3}}(?:\s*(?:,|and|&|/)\s*(?:{_KW})?\d{{1,3}})*)"
    r"(?P<tail>\s*(?:[.,;:)\]]|$)|\s+(?:is|are|has|have|lands?|merges?|(?:is |are )?"
    r"(?:done|merged|complete|completed|finished))\b)?",
    re.I | re.M,
)


def _title(text: str) -> str:
    first = " ".join(text.split("\n", 1)[0].split())
    return first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1].rstrip() + "…"


def _explicit_deps(text: str) -> list[int]:
    found: list[int] = []
    for m in _DEP.finditer(text):
        if m["kw"] is None and m["tail"] is None:
            continue  # a bare number must end the phrase: "after 2 seconds" is no dependency
        found.extend(int(n) for n in re.findall(r"\d+", m["nums"]))
    return found


def _reaches(graph: dict[int, list[int]], start: int, target: int) -> bool:
    # Each node is pushed once: O(nodes + edges), however many paths lead to it.
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == target:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def decompose(
    title: str,
    body: str,
    labels: list[str],
    repo: str,
    issue_number: int,
    max_tasks: int = 10,
) -> Decomposition:
    title = " ".join(strip_invisible(title or "").split()) or f"Issue #{issue_number}"
    text = strip_invisible(strip_html_comments(body or "")).strip("\n")
    lines = text.split("\n")
    items = parse_items(lines)
    label_types = types_from_labels(labels)
    issue_type = issue_words_type(title, text)

    def usable(item: ListItem) -> bool:
        words = norm(item.text)
        return bool(words) and not _CONFIRMATION.search(words) and not _REF_ONLY.match(item.text)

    def has_task_parent(item: ListItem) -> bool:
        node = item.parent
        while node is not None and node.check is None:
            node = node.parent
        return node is not None

    chosen = [
        it
        for it in items
        if it.check is not None and it.section != "other" and not has_task_parent(it) and usable(it)
    ]
    source: Source = "task_list"
    if not chosen:
        source = "headed_list"
        chosen = [
            it
            for it in items
            if it.parent is None and it.check is None and it.section == "work" and usable(it)
        ]
    if not chosen:
        task = PlannedTask(
            key=f"{repo}#{issue_number}/1",
            ordinal=1,
            title=_title(title),
            body=text.strip(),
            type=choose_type(label_types, issue_type, None),  # whole issue: its own words
        )
        return Decomposition(tasks=[task], source="whole_issue")

    done = [n for n, it in enumerate(chosen, 1) if it.check == "x"]
    open_ordinals = {n for n, it in enumerate(chosen, 1) if it.check != "x"}
    if len(open_ordinals) > max_tasks:
        # Counted before any per-task work: hundreds of items cost one linear scan, never
        # the bodies, dependencies and types of tasks that will not be planned.
        split = (
            f"This issue holds {len(open_ordinals)} open tasks; the limit is {max_tasks}. "
            "Split it into smaller issues (or raise `max_tasks_per_issue`) and label them."
        )
        return Decomposition(tasks=[], source=source, done=done, too_many=True, message=split)
    backward_only = True  # every edge so far points to an earlier item: no cycle possible
    graph: dict[int, list[int]] = {}
    last_open_in_list: dict[tuple[object, ...], int] = {}
    tasks: list[PlannedTask] = []
    for ordinal, item in enumerate(chosen, 1):
        if item.check == "x":
            continue
        item_body = body_of(item, lines)
        deps: list[int] = []
        explicit = _explicit_deps(item_body)
        if not explicit and item.ordered and item.list_key in last_open_in_list:
            explicit = [last_open_in_list[item.list_key]]
        for dep in dict.fromkeys(explicit):
            if len(deps) >= MAX_DEPENDENCIES or dep not in open_ordinals or dep == ordinal:
                continue
            # Keep the plan acyclic. While all edges point backwards the new backward edge
            # cannot close a cycle, so the search runs only once a forward edge exists.
            if (backward_only and dep < ordinal) or not _reaches(graph, dep, ordinal):
                deps.append(dep)
                graph.setdefault(ordinal, []).append(dep)
                backward_only = backward_only and dep < ordinal
        last_open_in_list[item.list_key] = ordinal
        own = words_type(_title(item.text))
        tasks.append(
            PlannedTask(
                key=f"{repo}#{issue_number}/{ordinal}",
                ordinal=ordinal,
                title=_title(item.text),
                body=item_body,
                type=choose_type(label_types, own, issue_type),
                depends_on=sorted(deps),
            )
        )
    message = None
    if not tasks:
        message = "Every task-list item in this issue is already checked: nothing left to do."
    return Decomposition(tasks=tasks, source=source, done=done, message=message)
