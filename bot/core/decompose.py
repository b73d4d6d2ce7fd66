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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.core.sanitize import strip_html_comments, strip_invisible

TaskType = Literal["implementation", "bug_fix", "feature", "refactor", "test", "documentation"]
TASK_TYPES: tuple[TaskType, ...] = (
    "implementation",
    "bug_fix",
    "feature",
    "refactor",
    "test",
    "documentation",
)
Source = Literal["task_list", "headed_list", "whole_issue"]
TITLE_MAX = 120


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


@dataclass
class _Item:
    start: int
    indent: int
    threshold: int  # a line indented at least this much belongs to the item
    ordered: bool
    check: str | None  # None: plain item; " " or "x": task-list item
    text: str
    parent: _Item | None
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

_LABEL_WORDS: tuple[tuple[TaskType, frozenset[str]], ...] = (
    ("documentation", frozenset({"documentation", "docs", "doc"})),
    ("test", frozenset({"test", "tests", "testing"})),
    ("refactor", frozenset({"refactor", "refactoring", "cleanup", "debt"})),
    ("bug_fix", frozenset({"bug", "bugs", "bugfix", "defect", "regression", "crash", "fix"})),
    ("feature", frozenset({"enhancement", "feature", "feat", "features"})),
)
_PREFIX = re.compile(r"^\s*(?:\[(?P<tag>[^\]]{1,30})\]|(?P<cc>[a-z]{2,12})(?:\([^)]*\))?!?:)")
# The leading verb says what the work is ("Fix crash in docs build" is a bug fix); then the
# nouns ("Add tests for …"); then any telling word. First match wins.
_FIX_WORDS = r"fix\w*|bugs?|crash\w*|errors?|exceptions?|traceback|broken|fails?|failing|failure"
_TYPE_RULES: tuple[tuple[TaskType, str], ...] = (
    ("bug_fix", r"^(?:fix|fixes|resolve|correct|repair|patch)\b"),
    ("refactor", r"^(?:refactor|clean ?up|restructure|simplify|extract|deduplicate|rename)\b"),
    ("refactor", r"^(?:reorgani[sz]e|move|split|consolidate|modernize)\b"),
    ("documentation", r"^(?:document|docs?)\b"),
    ("test", r"^(?:test|tests|cover)\b"),
    ("documentation", r"\b(?:docs?|documentation|readme|docstrings?|changelog)\b"),
    ("test", r"\b(?:tests?|unit[- ]tests?|test coverage|coverage|pytest)\b"),
    ("refactor", r"\b(?:refactor\w*|clean ?up|tech(?:nical)? debt)\b"),
    ("feature", r"^(?:add|support|implement|introduce|allow|enable|create|provide|expose)\b"),
    ("bug_fix", rf"\b(?:{_FIX_WORDS}|regression|incorrect|wrong|hangs?|leaks?)\b"),
    ("bug_fix", r"\b(?:doesn't work|does not work|not working)\b"),
    ("feature", r"\b(?:add|adds|adding|support|new|allow|introduce|enable|feature|option)\b"),
)
_TYPE_PATTERNS = tuple((task_type, re.compile(rule)) for task_type, rule in _TYPE_RULES)
_BUG_SIGNALS = re.compile(
    r"steps to reproduce|to reproduce|expected behaviou?r|actual behaviou?r|describe the bug"
    r"|traceback \(most recent call last\)|stack ?trace|\bcrash|\bregression\b|bug report"
)
_FEATURE_SIGNALS = re.compile(
    r"feature request|describe the solution you'd like|\bproposal\b|would be (?:nice|great|useful)"
)


def _norm(text: str) -> str:
    """Lowercase words only: emoji, punctuation and curly quotes must not hide a keyword."""
    text = text.replace("\u2019", "'").lower()
    return " ".join(re.sub(r"[^\w\s'/-]", " ", text).split())


def _section(headings: list[tuple[int, str]]) -> str | None:
    # The innermost heading that says something decides: "## Tasks" > "### Backend" is work.
    for _level, text in reversed(headings):
        if _OTHER.search(text):
            return "other"
        if _WORK.search(text):
            return "work"
    return None


def _parse(lines: list[str]) -> list[_Item]:
    items: list[_Item] = []
    stack: list[_Item] = []  # open list items, innermost last
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
        headings.append((level, _norm(text)))

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
            item = _Item(
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


def _item_body(item: _Item, lines: list[str]) -> str:
    out = [item.text]
    for raw in lines[item.start + 1 : item.end]:
        line = raw.expandtabs(4)
        indent = len(line) - len(line.lstrip(" "))
        out.append(line[min(indent, item.threshold) :].rstrip())
    while len(out) > 1 and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def _title(text: str) -> str:
    first = " ".join(text.split("\n", 1)[0].split())
    return first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1].rstrip() + "…"


def _label_type(label: str) -> TaskType | None:
    words = set(re.findall(r"[a-z]+", label.lower()))
    if "not" in words:
        return None
    return next((t for t, names in _LABEL_WORDS if words & names), None)


def _words_type(text: str) -> TaskType | None:
    text = text.replace("\u2019", "'").lower()
    if m := _PREFIX.match(text):  # "[Bug] …", "feat(cli): …", "docs: …"
        tagged = _label_type(m["tag"] or m["cc"] or "")
        if tagged:
            return tagged
        text = text[m.end() :]
    words = _norm(text)
    for task_type, pattern in _TYPE_PATTERNS:
        if pattern.search(words):
            return task_type
    return None


def _issue_words_type(title: str, body: str) -> TaskType | None:
    found = _words_type(title)
    lowered = body.lower()
    bug_report = bool(_BUG_SIGNALS.search(lowered)) and not _FEATURE_SIGNALS.search(lowered)
    # A bug report's structure (steps to reproduce, expected/actual) outweighs a feature-ish
    # word in its title, which is often a function name: "add() subtracts".
    if found == "feature" and bug_report:
        return "bug_fix"
    if found:
        return found
    if bug_report:
        return "bug_fix"
    return "feature" if _FEATURE_SIGNALS.search(lowered) else None


def _choose_type(
    label_types: list[TaskType], own: TaskType | None, fallback: TaskType | None
) -> TaskType:
    if label_types:  # labels decide; the words only choose between several labelled types
        return own if own in label_types else label_types[0]
    return own or fallback or "implementation"


def _explicit_deps(text: str) -> list[int]:
    found: list[int] = []
    for m in _DEP.finditer(text):
        if m["kw"] is None and m["tail"] is None:
            continue  # a bare number must end the phrase: "after 2 seconds" is no dependency
        found.extend(int(n) for n in re.findall(r"\d+", m["nums"]))
    return found


def _reaches(graph: dict[int, list[int]], start: int, target: int) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == target:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, []))
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
    items = _parse(lines)
    labelled = {_label_type(label) for label in labels}
    label_types = [t for t, _ in _LABEL_WORDS if t in labelled]
    issue_type = _issue_words_type(title, text)

    def usable(item: _Item) -> bool:
        words = _norm(item.text)
        return bool(words) and not _CONFIRMATION.search(words) and not _REF_ONLY.match(item.text)

    def has_task_parent(item: _Item) -> bool:
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
            type=_choose_type(label_types, issue_type, None),  # whole issue: its own words
        )
        return Decomposition(tasks=[task], source="whole_issue")

    done = [n for n, it in enumerate(chosen, 1) if it.check == "x"]
    open_ordinals = {n for n, it in enumerate(chosen, 1) if it.check != "x"}
    graph: dict[int, list[int]] = {}
    last_open_in_list: dict[tuple[object, ...], int] = {}
    tasks: list[PlannedTask] = []
    for ordinal, item in enumerate(chosen, 1):
        if item.check == "x":
            continue
        item_body = _item_body(item, lines)
        deps: list[int] = []
        explicit = _explicit_deps(item_body)
        if not explicit and item.ordered and item.list_key in last_open_in_list:
            explicit = [last_open_in_list[item.list_key]]
        for dep in explicit:
            if dep in open_ordinals and dep != ordinal and dep not in deps:
                if not _reaches(graph, dep, ordinal):  # keep the plan acyclic
                    deps.append(dep)
                    graph.setdefault(ordinal, []).append(dep)
        last_open_in_list[item.list_key] = ordinal
        own = _words_type(_title(item.text))
        tasks.append(
            PlannedTask(
                key=f"{repo}#{issue_number}/{ordinal}",
                ordinal=ordinal,
                title=_title(item.text),
                body=item_body,
                type=_choose_type(label_types, own, issue_type),
                depends_on=sorted(deps),
            )
        )
    message = None
    too_many = len(tasks) > max_tasks
    if too_many:
        message = (
            f"This issue holds {len(tasks)} open tasks; the limit is {max_tasks}. "
            "Split it into smaller issues (or raise `max_tasks_per_issue`) and label them."
        )
    elif not tasks:
        message = "Every task-list item in this issue is already checked: nothing left to do."
    return Decomposition(tasks=tasks, source=source, done=done, too_many=too_many, message=message)
