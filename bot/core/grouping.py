"""Which list items of an issue are work, and which items join another's task. Pure: no I/O.

`select_items` applies rules 1-4 of `bot.core.decompose` (what is an item, what is criteria,
furniture, an example or a bug report); `group_follow_ups` rule 5: an item that only tests,
documents or announces a change joins the task of the change it names (shared words), or of
the change before it when it names none ("Add tests", "Document it"). It stays its own task
when it gives an explicit order ("after 2"), when the change it follows up is done, when
there is no change to join, or when it follows up several changes (then it depends on them).
Each decision adds one line to `Selection.reasons`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from bot.core.issue_markdown import IssueDoc, Item
from bot.core.item_roles import (
    FollowUp,
    bug_signals,
    content_words,
    follow_up,
    heading_name,
    is_example,
    is_furniture,
    is_reference_only,
    refers_back,
    section_of,
)

_KW = r"(?:tasks?|steps?|items?)\s*#?\s*"
_DEP = re.compile(
    r"\b(?:after|depends? on|dependent on|blocked by|requires|once|following)\s*:?\s+"
    rf"(?P<kw>{_KW})?(?P<nums>\d{{1,3}}(?:\s*(?:,|and|&|/)\s*(?:{_KW})?\d{{1,3}})*)"
    r"(?P<tail>\s*(?:[.,;:)\]]|$)|\s+(?:is|are|has|have|lands?|merges?|(?:is |are )?"
    r"(?:done|merged|complete|completed|finished))\b)?",
    re.I | re.M,
)


@dataclass(eq=False)
class Candidate:
    item: Item
    ordinal: int
    in_work_section: bool
    follow: FollowUp | None = None
    joins: int | None = None  # the ordinal of the task this item joins
    after: list[int] = field(default_factory=list)  # changes it follows up, when several


@dataclass
class Selection:
    candidates: list[Candidate] = field(default_factory=list)
    criteria: list[Item] = field(default_factory=list)
    bug: list[str] = field(default_factory=list)  # what makes the issue a bug report
    reasons: list[str] = field(default_factory=list)


def quoted(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def explicit_deps(text: str) -> list[int]:
    found: list[int] = []
    for m in _DEP.finditer(text):
        if m["kw"] is None and m["tail"] is None:
            continue  # a bare number must end the phrase: "after 2 seconds" is no dependency
        found.extend(int(n) for n in re.findall(r"\d+", m["nums"]))
    return found


def _summary(what: str, items: list[Item], why: str) -> str:
    examples = ", ".join(quoted(i.title, 50) for i in items[:2])
    more = f" and {len(items) - 2} more" if len(items) > 2 else ""
    count = f"{len(items)} item{'s' if len(items) > 1 else ''}"
    return f"{what}: {count} ({examples}{more}) — {why}."


def select_items(doc: IssueDoc, text: str) -> Selection:
    sel = Selection(bug=bug_signals(doc, text))
    taken: set[int] = set()  # items whose nested items belong to them
    furniture: list[Item] = []
    references: list[Item] = []
    examples: list[Item] = []
    criteria_heading = ""
    for item in doc.items:
        if item.in_quote or any(id(a) in taken for a in item.ancestors()):
            continue
        section = section_of(item.headings)
        if item.checked is None:  # a plain item: work only at the top of a work list
            if item.parent is not None or not item.title:
                continue
            if section == "criteria":
                sel.criteria.append(item)
                criteria_heading = criteria_heading or heading_name(item.headings)
                taken.add(id(item))
            elif section == "work" and not is_example(item.lead_in):
                if is_reference_only(item.text):
                    references.append(item)
                    continue
                taken.add(id(item))
                sel.candidates.append(Candidate(item, len(sel.candidates) + 1, True))
            continue
        if section == "report" or is_furniture(item.text):
            furniture.append(item)
        elif is_reference_only(item.text):
            references.append(item)
        elif is_example(item.lead_in):
            examples.append(item)
            taken.add(id(item))
        elif section == "criteria":
            sel.criteria.append(item)
            criteria_heading = criteria_heading or heading_name(item.headings)
            taken.add(id(item))
        else:
            taken.add(id(item))
            sel.candidates.append(Candidate(item, len(sel.candidates) + 1, section == "work"))
    if any(c.item.checked is not None for c in sel.candidates):
        # A task list is the plan; plain bullets beside it are notes (rule 1 of decompose).
        sel.candidates = [c for c in sel.candidates if c.item.checked is not None]
        for ordinal, cand in enumerate(sel.candidates, 1):
            cand.ordinal = ordinal
    if sel.bug and not any(c.in_work_section for c in sel.candidates):
        # A bug report is one change; its checkboxes are the report's, not a plan.
        furniture.extend(c.item for c in sel.candidates)
        sel.candidates = []
    if furniture:
        sel.reasons.append(
            _summary("Not work", furniture, "issue-template declarations or report details")
        )
    if references:
        sel.reasons.append(
            _summary("Not work here", references, "pointers to other issues or links")
        )
    if examples:
        sel.reasons.append(_summary("Not work", examples, "an example, not a plan"))
    if sel.criteria:
        sel.reasons.append(
            _summary(
                "Criteria, not tasks",
                sel.criteria,
                f"under {quoted(criteria_heading, 40)}, in every task's prompt and PR body as"
                " a checklist",
            )
        )
    done = [c for c in sel.candidates if c.item.checked]
    if done:
        sel.reasons.append(_summary("Skipped", [c.item for c in done], "checked, so done: no task"))
    return sel


class _Changes:
    """The items that are changes, indexed by their words: scoring a follow-up touches only
    the changes that share a word with it, however long the list."""

    def __init__(self, changes: list[Candidate]):
        self.changes = changes  # in ordinal order
        self.ordinals = [c.ordinal for c in changes]
        self.by_word: dict[str, list[Candidate]] = {}
        for change in changes:
            for word in content_words(change.item.text):
                self.by_word.setdefault(word, []).append(change)
        # A word most changes share ("operation" in "Add operation 1", "Add operation 2", …)
        # names none of them.
        common = max(3, len(changes) // 2)
        self.by_word = {w: cs for w, cs in self.by_word.items() if len(cs) <= common}

    def targets(self, cand: Candidate) -> list[Candidate]:
        """The changes an item follows up: those sharing most words with it (several when
        it names several, "Document `mul` and `div`"), else the change before it when it
        names no subject of its own."""
        scores: Counter[int] = Counter()
        found: dict[int, Candidate] = {}
        for word in content_words(cand.item.text):
            for change in self.by_word.get(word, ()):
                scores[change.ordinal] += 1
                found[change.ordinal] = change
        if scores:
            best = max(scores.values())
            return [found[o] for o in sorted(scores) if scores[o] == best]
        if refers_back(cand.item.text):
            before = bisect_left(self.ordinals, cand.ordinal)
            return self.changes[before - 1 : before] if before else []
        return []


def group_follow_ups(doc: IssueDoc, sel: Selection) -> None:
    for cand in sel.candidates:
        cand.follow = follow_up(cand.item.text)
    changes = _Changes([c for c in sel.candidates if c.follow is None])
    for cand in sel.candidates:
        if cand.follow is None or cand.item.checked:
            continue
        name = f"Item {cand.ordinal} {quoted(cand.item.title, 50)}"
        if explicit_deps(doc.body_of(cand.item)):
            sel.reasons.append(f"{name} is its own task: it gives its own order.")
            continue
        targets = changes.targets(cand)
        if len(targets) > 1:
            cand.after = [t.ordinal for t in targets if not t.item.checked]
            shown = ", ".join(str(t.ordinal) for t in targets[:5])
            more = f" and {len(targets) - 5} more" if len(targets) > 5 else ""
            sel.reasons.append(
                f"{name} is its own task after items {shown}{more}: it follows up each of them."
            )
            continue
        target = targets[0] if targets else None
        if target is None:
            sel.reasons.append(f"{name} is its own task: it follows up no other item.")
        elif target.item.checked:
            sel.reasons.append(
                f"{name} is its own task: the change it follows up (item {target.ordinal}) is done."
            )
        else:
            cand.joins = target.ordinal
            sel.reasons.append(
                f"{name} joins task {target.ordinal}: it only adds the {cand.follow} of that "
                "change."
            )
