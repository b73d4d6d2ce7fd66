"""Which kind of work a task is (`TaskType`), from issue labels and words. Pure: no I/O.

Labels decide when they name a type ("bug", "docs", …), the task's own words choosing among
several labelled types; without labels the task's words decide (a conventional prefix such as
"[Bug]" or "feat(cli):", its leading verb, then telling words), then the issue's words and
structure (steps to reproduce, "feature request"), and "implementation" is the last resort.
For the issue as a whole (`issue_type`) its shape comes first: a bug report is a bug fix
whatever its title's verbs ("simplify() gives wrong result" is no refactor).
"""

from __future__ import annotations

import re
from typing import Literal

TaskType = Literal["implementation", "bug_fix", "feature", "refactor", "test", "documentation"]
TASK_TYPES: tuple[TaskType, ...] = (
    "implementation",
    "bug_fix",
    "feature",
    "refactor",
    "test",
    "documentation",
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
_DEFECT = re.compile(
    r"\b(?:wrong|incorrect(?:ly)?|crash\w*|segfaults?|traceback|regression|broken|bugs?|hangs?"
    r"|leaks?|fails?|failing|failure|doesn't work|does not work|not working|no longer works?"
    r"|raises?|throws?|\w*(?:error|exception)s?)\b(?! handling| messages?| reporting)"
)
_CHANGE_VERB = re.compile(
    r"^(?:add|support|implement|introduce|allow|enable|create|provide|expose|refactor"
    r"|clean ?up|simplify|extract|rename|move|split|remove|drop|document|test|update|improve"
    r"|use|make|deprecate|replace|rewrite)\b"
)
_SUBJECT_THEN = re.compile(
    r" (?:returns?|gives?|produces?|yields?|raises?|throws?|crash\w*|fails?|hangs?|breaks?"
    r"|is|are|does|doesn't|do|has|can't|cannot|won't|leads?|causes?|results?|outputs?)\b"
)
_FEATURE_SIGNALS = re.compile(
    r"feature request|describe the solution you'd like|\bproposal\b|would be (?:nice|great|useful)"
)


def norm(text: str) -> str:
    """Lowercase words only: emoji, punctuation and curly quotes must not hide a keyword."""
    text = text.replace("\u2019", "'").lower()
    return " ".join(re.sub(r"[^\w\s'/-]", " ", text).split())


def _label_type(label: str) -> TaskType | None:
    words = set(re.findall(r"[a-z]+", label.lower()))
    if "not" in words:
        return None
    return next((t for t, names in _LABEL_WORDS if words & names), None)


def types_from_labels(labels: list[str]) -> list[TaskType]:
    """The types the labels name, in `_LABEL_WORDS` order (labels decide; see choose_type)."""
    labelled = {_label_type(label) for label in labels}
    return [t for t, _ in _LABEL_WORDS if t in labelled]


def words_type(text: str) -> TaskType | None:
    text = text.replace("\u2019", "'").lower()
    if m := _PREFIX.match(text):  # "[Bug] …", "feat(cli): …", "docs: …"
        tagged = _label_type(m["tag"] or m["cc"] or "")
        if tagged:
            return tagged
        text = text[m.end() :]
    words = norm(text)
    for task_type, pattern in _TYPE_PATTERNS:
        if pattern.search(words):
            return task_type
    return None


def reports_defect(title: str) -> bool:
    """Whether a title states a defect ("simplify() gives wrong result", "KeyError without
    arguments") rather than asking for a change ("Improve error messages")."""
    text = title.replace("\u2019", "'").lower()
    if prefix := _PREFIX.match(text):  # "feat: …", "[Docs] …": the author said what it is
        tagged = _label_type(prefix["tag"] or prefix["cc"] or "")
        if tagged:
            return tagged == "bug_fix"
        text = text[prefix.end() :]
    words = norm(text)
    if not _DEFECT.search(words):
        return False
    verb = _CHANGE_VERB.match(words)
    # "Simplify returns …": the leading word is the subject (a function), not the request.
    return verb is None or bool(_SUBJECT_THEN.match(words, verb.end()))


def issue_type(title: str, body: str, bug_report: bool = False) -> TaskType | None:
    """The issue's own type: its shape first (a bug report is a bug fix whatever its
    title's verbs), then the title's words, then telling words in the body."""
    if bug_report or reports_defect(title):
        return "bug_fix"
    found = words_type(title)
    lowered = body.lower()
    bug_words = bool(_BUG_SIGNALS.search(lowered)) and not _FEATURE_SIGNALS.search(lowered)
    # A bug report's words outweigh a feature-ish word in its title, which is often a
    # function name: "add() subtracts".
    if found == "feature" and bug_words:
        return "bug_fix"
    if found:
        return found
    if bug_words:
        return "bug_fix"
    return "feature" if _FEATURE_SIGNALS.search(lowered) else None


def choose_type(
    label_types: list[TaskType], own: TaskType | None, fallback: TaskType | None
) -> TaskType:
    if label_types:  # labels decide; the words only choose between several labelled types
        return own if own in label_types else label_types[0]
    return own or fallback or "implementation"
