"""What a part of an issue is to a maintainer planning work from it. Pure: no I/O.

The rules, as a maintainer would write them down:

- A heading (or a bold or `Text:` pseudo-heading) names the section the lists under it are
  in: work ("Tasks", "TODO", "Plan", "Roadmap", …), criteria ("Acceptance criteria",
  "Requirements", "Definition of done", "Expected behaviour", …) or report details ("Steps to
  reproduce", "Environment", "Is there an existing issue for this?", …). The innermost
  heading that names one decides.
- Issue-template furniture is never work: declaration checkboxes ("I have searched…", "This
  issue complies…"), what a report should contain ("output of `pip list`"), instructions,
  and choices such as "Yes" / "No".
- A list introduced by "such as", "for example", … is an example, not work.
- An item that only tests, documents or announces a change is a follow-up (`follow_up`).
- A bug report — steps to reproduce, actual behaviour, a traceback, error output — is known
  by its shape (`bug_signals`), whatever its title's verbs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from bot.core.issue_markdown import Heading, IssueDoc
from bot.core.task_types import norm

Section = Literal["work", "criteria", "report"]
FollowUp = Literal["tests", "docs", "announcement"]

_REPORT = re.compile(
    r"reproduc|\brepro\b|\bactual\b|current behaviou?r|observed|what happened|environment"
    r"|system (?:info|requirements)|traceback|stack ?trace|error (?:message|output|logs?)"
    r"|screenshot|code of conduct|prerequisite|before (?:submitting|opening|you)|pre-?flight"
    r"|existing issue|duplicate|\bterms\b|\bconfirm|alternatives?|workaround|\bwhich\b"
    r"|\baffected\b|priority|severity|\bwilling\b|going to work on|like to contribute"
    r"|contributing guidelines|issue template|follow the guide|purpose of|make sure"
    r"|please (?:complete|fill|read)|^(?:please )?(?:provide|describe|paste|include|attach"
    r"|share|tell us)\b|additional (?:context|information|info)|links? to other issues"
    r"|^related\b|^resources\b|^references?\b|console logs?|command line arguments"
    r"|initial checks|versions? (?:where|of|checks?|used|info)|which version|what version"
    r"|^(?:[\w.-]+ )?(?:versions?|platforms?|os|operating systems?|browsers?|devices?|logs?"
    r"|output|errors?)(?: (?:info|information|used|details|number|message|output|tested))?$"
)
_CRITERIA = re.compile(
    r"acceptance (?:criteria|tests?)|definition of done|\bdod\b|\brequirements?\b"
    r"|success criteria|exit criteria|expected (?:behaviou?r|results?|outcomes?|output)"
    r"|(?:done|finished|complete|completed) when"
)
_WORK = re.compile(
    r"\btasks?\b|\bto-?dos?\b|\bto do\b|\bplan\b|steps to implement|^implementation\b"
    r"|implementation (?:steps|plan)|work items?|action items?|sub-?tasks|deliverables"
    r"|milestones|next steps|roadmap|proposed changes|changes (?:needed|required|to make)"
    r"|what needs to|things to do"
)
_FURNITURE = re.compile(
    r"^(?:i|i'm|i've|i'd|i am|i have|i will|i understand|we|we've|we have|my)\b"
    r"|code of conduct|existing (?:issues|discussions|bug reports)|not a duplicate"
    r"|no duplicates?\b|contributing guidelines|\bsearched\b|\bterms of\b"
    r"|this issue (?:complies|is not|has not)|there is not yet another|is reproducible from"
    r"|has not been resolved by|at least skimmed|put an x|preview tab|please read"
    # What a bug report should contain (pytest's template and many like it), not work:
    r"|detailed description|pip (?:list|freeze)|conda list|minimal (?:\w+ )?example"
    r"|reproducible example|\bmcve\b|\breprex\b|operating system versions?|if possible$"
    # Choices a form asks for: the purpose of the issue, yes or no.
    r"|^(?:bug report|site support request|feature request|question|other)\b(?: \(.*)?$"
    r"|^(?:yes|no)$"
    # Steps of the process around the change (the PR, labels, the project board), not code.
    r"|pull request (?:is )?(?:created|opened|linked)|labels? (?:is |are )?(?:added|applied|set)"
    r"|linked to (?:the )?(?:proper |correct |right )?(?:project|milestone)"
    r"|in (?:the )?(?:proper |correct |right )milestone"
)
_STRUCK_OUT = re.compile(r"^~~?[^~].*~~?$")
_REF_ONLY = re.compile(r"^(?:[\w.-]+/[\w.-]+)?#\d+\s*$|^<?https?://\S+>?\s*$")
_EXAMPLE_LEAD_IN = re.compile(
    r"\b(?:such as|for example|for instance|e\.g\.?|eg|example|like this|like so|sample"
    r"|snippet)\W*$",
    re.I,
)

# Follow-ups: what only tests, documents or announces a change.
_TESTS = re.compile(
    r"\b(?:tests?|unit ?tests?|test cases?|test coverage|coverage|regression tests?|pytest)\b"
    r"|^(?:test|cover)\b"
)
_FIX_OR_CHANGE = re.compile(r"^(?:fix|fixes|resolve|repair|patch|run|skip|remove|delete)\b")
_DOCS = re.compile(
    r"^(?:document|docs?)\b|\b(?:docs?|documentation|readme|docstrings?|doc strings?"
    r"|examples? to the readme|user guide|tutorial)\b"
)
_ANNOUNCE = re.compile(
    r"^(?:announce|mention)\b|\bchangelog\b|\bchanges (?:rst|md|txt)\b|\brelease notes?\b"
    r"|\bnews(?: fragment| entry)?\b|\bwhat'?s ?new\b|\bhistory (?:rst|md)\b"
)
_ANAPHORA = re.compile(
    r"\b(?:it|this|them|these|that|above|the change|the feature|the new)\b(?! \w+ (?:is|are)\b)"
)
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_STOP = frozenset(
    "a an the for in of to and or with on at by from into it its this that these those all any"
    " some more new proper useful necessary make sure be is are was were as also well so its"
    " add adding added write writing update updating updated extend create include improve"
    " document documenting documented documentation docs doc docstring docstrings string"
    " strings readme changelog changes change news release notes note entry test tests testing"
    " tested unit integration regression coverage case cases example examples source code file"
    " files mention announce guide tutorial".split()
)

_BUG_HEADINGS = re.compile(
    r"reproduc|describe the bug|bug report|what happened|actual (?:behaviou?r|results?|output)"
    r"|current behaviou?r|observed behaviou?r|traceback|stack ?trace|error (?:message|output"
    r"|logs?)|console logs?|crash report|^bug\b"
)
_BUG_TEXT = re.compile(
    r"traceback \(most recent call last\)|steps to reproduce|actual (?:behaviou?r|result)"
    r"|describe the bug|^\s*(?:\w+\.)*\w*(?:error|exception): ",
    re.I | re.M,
)
_FEATURE_TEXT = re.compile(
    r"feature request|describe the solution you'd like|\bproposal\b"
    r"|would be (?:nice|great|useful)",
    re.I,
)


def section_of(headings: Sequence[Heading]) -> Section | None:
    """The innermost heading that names a kind of section decides: "## Tasks" > "### Backend"
    is work, "## Tasks" > "**Acceptance criteria**" is criteria."""
    for heading in reversed(headings):
        words = norm(heading.text)
        if _REPORT.search(words):
            return "report"
        if _CRITERIA.search(words):
            return "criteria"
        if _WORK.search(words):
            return "work"
    return None


def heading_name(headings: Sequence[Heading]) -> str:
    return headings[-1].text.strip("*_: ") if headings else ""


def is_furniture(text: str) -> bool:
    """Template furniture; also an item struck out (`~not needed~`): it does not apply."""
    words = norm(text)
    return not words or bool(_FURNITURE.search(words) or _STRUCK_OUT.match(text.strip()))


def is_reference_only(text: str) -> bool:
    return bool(_REF_ONLY.match(text.strip()))


def is_example(lead_in: str) -> bool:
    """A list right after "…such as:" or "for example" shows what is meant; it is no plan."""
    last = lead_in.strip().rsplit("\n", 1)[-1]
    return bool(last) and bool(_EXAMPLE_LEAD_IN.search(last))


def follow_up(text: str) -> FollowUp | None:
    """Whether an item only tests, documents or announces a change (which it then joins)."""
    words = norm(text)
    if not words or _FIX_OR_CHANGE.search(words):
        return None
    if words.startswith(("document", "doc ", "docs")):
        return "docs"
    if _ANNOUNCE.search(words):
        return "announcement"
    if _TESTS.search(words):
        return "tests"
    if _DOCS.search(words):
        return "docs"
    return None


def content_words(text: str) -> set[str]:
    """The words that say what an item is about, roughly stemmed; paths are not subjects,
    a number only names something with the word before it ("operation 3"), and a version
    stays whole ("3.12")."""
    words = set()
    tokens = norm(_DECIMAL_POINT.sub("_", text)).replace("-", " ").split()
    for i, word in enumerate(tokens):
        if word.isdigit():
            if i and not tokens[i - 1].isdigit():
                words.add(f"{tokens[i - 1]}#{word}")
            continue
        if "/" in word or word in _STOP or len(word) < 3:
            continue
        words.add(word.removesuffix("s") if len(word) > 4 else word)
    return words


def refers_back(text: str) -> bool:
    """An item without a subject of its own ("Add tests", "Document it in docs/cli.rst")
    is about the change before it."""
    return not content_words(text) or bool(_ANAPHORA.search(norm(text)))


def bug_signals(doc: IssueDoc, body: str) -> list[str]:
    """What makes the issue a bug report: its sections and its text (empty when it is not
    one, or when it reads as a feature request)."""
    if _FEATURE_TEXT.search(body):
        return []
    found: list[str] = []
    for heading in doc.headings:
        words = norm(heading.text)
        if _BUG_HEADINGS.search(words) and heading.text.strip("*_: ") not in found:
            found.append(heading.text.strip("*_: "))
    if not found and (match := _BUG_TEXT.search(body)):
        found.append(" ".join(match.group(0).split()).rstrip(": "))
    return found[:3]
