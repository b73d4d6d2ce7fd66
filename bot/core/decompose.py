"""Split an issue into tasks a maintainer would accept. Pure: no I/O.

A task is a change that can be reviewed and merged on its own, with its tests and its
documentation. The issue's structure comes from `bot.core.issue_markdown`; what each part of
it is (work, criteria, report details, template furniture, a follow-up) from
`bot.core.item_roles`. The rules, in order:

1. Items are the task-list items (`- [ ]`, `- [x]`) outside report sections, and the
   top-level items of a plain list under a heading that names work ("Tasks", "Plan", …).
   Nested sub-items belong to their item's body. A checked item is done: it keeps its
   ordinal but is no task (it is listed as skipped), so ticking item 1 never renumbers item 2
   and task keys stay stable when the app ticks items on merge.
2. Items under "Acceptance criteria", "Requirements", "Definition of done", "Expected
   behaviour" are criteria: every task carries them, none is a task.
3. Template furniture, examples, and items that only reference another issue are no work.
4. A bug report (steps to reproduce, traceback, …) is one task unless the issue has a work
   section of its own.
5. An item that only tests, documents or announces another item's change joins that item's
   task (`bot.core.grouping`); with an explicit order ("after 2"), or following up several
   changes, it stays its own task after them.
6. Nothing actionable left: the whole issue is one task.

Ordinals are positions among the items of rule 1, 1-based, in document order. Dependencies:
explicit text ("after 1", "depends on task 2", "blocked by step 3") refers to those
ordinals; `#2` is an issue reference, not a task. Items of an ordered list without explicit
text depend on the nearest open task before them in the same list. An edge that would close
a cycle is dropped. Every decision is said in one line in `Decomposition.reasons`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.core.grouping import (
    Candidate,
    Selection,
    explicit_deps,
    group_follow_ups,
    quoted,
    select_items,
)
from bot.core.issue_markdown import IssueDoc, Item, parse_issue
from bot.core.sanitize import strip_html_comments, strip_invisible

# Re-exported: tests import TASK_TYPES from here, where it lived before task_types.py.
from bot.core.task_types import TASK_TYPES as TASK_TYPES
from bot.core.task_types import TaskType, choose_type, issue_type, types_from_labels, words_type

Source = Literal["task_list", "headed_list", "whole_issue"]
TITLE_MAX = 120
MAX_DEPENDENCIES = 32  # per task; more is a list of everything, not an order of work
MAX_CRITERIA = 30


@dataclass(frozen=True)
class PlannedTask:
    key: str  # f"{repo}#{issue_number}/{ordinal}": stable across re-labels and edits
    ordinal: int
    title: str
    body: str
    type: TaskType
    depends_on: list[int] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)  # the issue's, for every task
    items: list[int] = field(default_factory=list)  # its list items: its own, then joined


@dataclass(frozen=True)
class Skipped:
    ordinal: int
    title: str
    reason: str


@dataclass(frozen=True)
class Decomposition:
    tasks: list[PlannedTask]
    source: Source
    done: list[int] = field(default_factory=list)  # ordinals of checked items
    too_many: bool = False
    message: str | None = None  # for the status comment: too many tasks, or nothing left
    criteria: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why it split (or did not), one a line


def task_title(text: str) -> str:
    first = " ".join(text.split("\n", 1)[0].split())
    return first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1].rstrip() + "…"


def body_of(doc: IssueDoc, item: Item) -> str:
    return strip_html_comments(doc.body_of(item)).strip("\n")


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


def read_issue(body: str, *, follow_ups: bool = True) -> tuple[IssueDoc, Selection]:
    """The issue's structure and the items rules 1-5 choose (shared with ticking on merge);
    without `follow_ups`, rules 1-4 only (the items a model groups itself)."""
    text = strip_invisible(body or "")
    doc = parse_issue(text)
    selection = select_items(doc, strip_html_comments(text))  # a comment is no report
    if follow_ups:
        group_follow_ups(doc, selection)
    return doc, selection


@dataclass
class IssueParts:
    """What every plan of an issue shares, whoever groups its items into tasks."""

    title: str
    text: str
    doc: IssueDoc
    sel: Selection
    label_types: list[TaskType]
    shape_type: TaskType | None
    criteria: list[str]
    done: list[int]
    skipped: list[Skipped]

    def task_type(self, title: str) -> TaskType:
        return choose_type(self.label_types, words_type(title), self.shape_type)


def issue_parts(
    title: str, body: str, labels: list[str], issue_number: int, *, follow_ups: bool = True
) -> IssueParts:
    title = " ".join(strip_invisible(title or "").split()) or f"Issue #{issue_number}"
    text = strip_invisible(strip_html_comments(body or "")).strip("\n")
    doc, sel = read_issue(body, follow_ups=follow_ups)
    finished = [c for c in sel.candidates if c.item.checked]
    return IssueParts(
        title,
        text,
        doc,
        sel,
        types_from_labels(labels),
        issue_type(title, text, bool(sel.bug)),
        list(dict.fromkeys(task_title(c.title) for c in sel.criteria))[:MAX_CRITERIA],
        [c.ordinal for c in finished],
        [Skipped(c.ordinal, task_title(c.item.title), "done") for c in finished],
    )


def _task_body(doc: IssueDoc, lead: Candidate, joined: list[Candidate]) -> str:
    body = body_of(doc, lead.item)
    if joined:
        extra = ["- " + body_of(doc, c.item).replace("\n", "\n  ").rstrip() for c in joined]
        body += (
            "\n\nWith its "
            + " and ".join(dict.fromkeys(str(c.follow) for c in joined))
            + ":\n"
            + "\n".join(extra)
        )
    return body


def _dependencies(
    doc: IssueDoc, tasks: list[Candidate], open_ordinals: set[int], owner: dict[int, int]
) -> dict[int, list[int]]:
    backward_only = True  # every edge so far points to an earlier task: no cycle possible
    graph: dict[int, list[int]] = {}
    last_open_in_list: dict[int, int] = {}
    result: dict[int, list[int]] = {}
    for cand in tasks:
        ordinal, item = cand.ordinal, cand.item
        explicit = explicit_deps(body_of(doc, item)) or cand.after
        if not explicit and item.ordered and item.list_id in last_open_in_list:
            explicit = [last_open_in_list[item.list_id]]
        deps: list[int] = []
        for dep in dict.fromkeys(owner.get(d, d) for d in explicit):
            if len(deps) >= MAX_DEPENDENCIES or dep not in open_ordinals or dep == ordinal:
                continue
            # Keep the plan acyclic. While all edges point backwards the new backward edge
            # cannot close a cycle, so the search runs only once a forward edge exists.
            if (backward_only and dep < ordinal) or not _reaches(graph, dep, ordinal):
                deps.append(dep)
                graph.setdefault(ordinal, []).append(dep)
                backward_only = backward_only and dep < ordinal
        last_open_in_list[item.list_id] = ordinal
        result[ordinal] = sorted(deps)
    return result


def decompose(
    title: str,
    body: str,
    labels: list[str],
    repo: str,
    issue_number: int,
    max_tasks: int = 10,
) -> Decomposition:
    parts = issue_parts(title, body, labels, issue_number)
    title, text, doc, sel = parts.title, parts.text, parts.doc, parts.sel
    criteria, done, skipped = parts.criteria, parts.done, parts.skipped
    reasons = list(sel.reasons)
    open_tasks = [c for c in sel.candidates if not c.item.checked and c.joins is None]

    def key(ordinal: int) -> str:
        return f"{repo}#{issue_number}/{ordinal}"

    if not sel.candidates:
        task = PlannedTask(
            key=key(1),
            ordinal=1,
            title=task_title(title),
            body=text.strip(),
            type=choose_type(parts.label_types, parts.shape_type, None),  # whole issue: its shape
            criteria=criteria,
        )
        why = (
            f"One task: a bug report ({', '.join(quoted(s, 40) for s in sel.bug)}) is fixed "
            "in one change."
            if sel.bug
            else "One task: no open task items or work list, so the whole issue is one change."
        )
        return Decomposition([task], "whole_issue", criteria=criteria, reasons=[why, *reasons])

    source: Source = (
        "task_list" if any(c.item.checked is not None for c in sel.candidates) else "headed_list"
    )
    if not open_tasks:
        message = "Every task-list item in this issue is already checked: nothing left to do."
        reasons.insert(0, "No task: every item of the list is checked (done).")
        return Decomposition(
            [], source, done, message=message, criteria=criteria, skipped=skipped, reasons=reasons
        )
    if len(open_tasks) > max_tasks:
        # Counted before any per-task work: hundreds of items cost one linear scan, never
        # the bodies, dependencies and types of tasks that will not be planned.
        split = (
            f"This issue holds {len(open_tasks)} open tasks; the limit is {max_tasks}. "
            "Split it into smaller issues (or raise `max_tasks_per_issue`) and label them."
        )
        return Decomposition(
            [],
            source,
            done,
            too_many=True,
            message=split,
            criteria=criteria,
            skipped=skipped,
            reasons=reasons,
        )
    joined: dict[int, list[Candidate]] = {}
    owner: dict[int, int] = {}
    for cand in sel.candidates:
        if cand.joins is not None and not cand.item.checked:
            joined.setdefault(cand.joins, []).append(cand)
            owner[cand.ordinal] = cand.joins
    open_ordinals = {c.ordinal for c in open_tasks}
    deps = _dependencies(doc, open_tasks, open_ordinals, owner)
    label = "task-list item" if source == "task_list" else "item of the work list"
    several = len(open_tasks) > 1
    reasons.insert(
        0,
        f"{len(open_tasks)} task{'s' if several else ''}: {'each' if several else 'the'} open "
        f"{label} that is not a follow-up is a change that can be reviewed and merged on its "
        "own.",
    )
    tasks = [
        PlannedTask(
            key=key(c.ordinal),
            ordinal=c.ordinal,
            title=task_title(c.item.title),
            body=_task_body(doc, c, joined.get(c.ordinal, [])),
            type=parts.task_type(task_title(c.item.title)),
            depends_on=deps[c.ordinal],
            criteria=criteria,
            items=[c.ordinal, *(j.ordinal for j in joined.get(c.ordinal, []))],
        )
        for c in open_tasks
    ]
    return Decomposition(tasks, source, done, criteria=criteria, skipped=skipped, reasons=reasons)
