"""One failure, one message, one action: what a failed task says, wherever it is shown.

`failure_notice(facts)` is the one decision (cause → message + the single thing to do next)
that the status comment, the PR comment, the `issuewright` check run and the dashboard all
call, so they cannot disagree. Pure: the caller reads the task row (and its latest attempt)
into `FailureFacts`.

A task's stored error is "what failed. What to do." (the app writes it so everywhere, the
LLM errors' `user_message` too); the notice splits it there, keeps the reason, and decides the
action from the cause:

- CI failed (`checks_failed`, or `failed` once the CI-fix attempts are used up): the CI-fix
  attempts left, or `fix-ci` once none are left; never `retry`, which would drop the PR.
- the model's answer was refused: `retry`, with what was refused (the reason) and a link to
  the attempt page when the server has a PUBLIC_URL.
- anything else (the LLM failed, a budget, a job that gave up): the stored action, which is
  a `retry` after whatever the cause asks to change first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.core.repair import REFUSED_WORDS

# The states in which a task's stored error is where it stands now.
FAILURE_STATES = frozenset({"failed", "budget_exceeded", "checks_failed"})
CI_EXHAUSTED_PREFIX = "checks failed and the "
_COMMAND = re.compile(r"`/issuewright (retry|fix-ci)(?: task \d+)?`")
_ACTION_START = re.compile(r"(?:^|[.;]\s+)(?=[^.;]*?(?:`/issuewright |Nothing to do))")


class FailureCause(StrEnum):
    CHECKS = "checks_failed"
    REFUSED = "answer_refused"
    BUDGET = "budget_exceeded"
    ATTEMPT = "attempt_failed"


HEADLINES = {
    FailureCause.CHECKS: "CI failed",
    FailureCause.REFUSED: "answer refused",
    FailureCause.BUDGET: "over budget",
    FailureCause.ATTEMPT: "attempt failed",
}


@dataclass(frozen=True)
class FailureFacts:
    """What the decision reads of a task (store.models.Task fields, plus its latest attempt
    and the server's PUBLIC_URL)."""

    ordinal: int
    state: str
    last_error: str | None
    pr_number: int | None = None
    push_blocked: bool = False
    attempt_id: int | None = None
    public_url: str | None = None


@dataclass(frozen=True)
class FailureNotice:
    cause: FailureCause
    reason: str  # what failed: third-party text inside, each surface neutralises it
    action: str  # the one thing to do next: the App's own words
    command: str | None  # "retry" or "fix-ci" when the action is a command; None: wait
    link: str | None = None  # the attempt page, for a refused answer

    @property
    def headline(self) -> str:
        return HEADLINES[self.cause]

    def text(self) -> str:
        """Reason and action as one paragraph (the link is each surface's to place)."""
        return f"{self.reason.rstrip('. ')}. {self.action}"


def ci_fix_queued(attempt: int, allowed: int) -> str:
    """The stored error while CI-fix attempts remain (`attempt` is the one about to run)."""
    left = allowed - attempt
    return (
        f"checks failed; CI-fix attempt {attempt} of {allowed} is on its way "
        f"({left} more left after it). Nothing to do yet: the app fixes it itself."
    )


def ci_fix_used_up(allowed: int) -> str:
    """The stored error once every CI-fix attempt was made and the checks still fail."""
    return (
        f"{CI_EXHAUSTED_PREFIX}{allowed} CI-fix attempt(s) are used up. Comment "
        "`/issuewright fix-ci` to try once more."
    )


def attempt_page(public_url: str | None, attempt_id: int | None) -> str | None:
    if not public_url or attempt_id is None:
        return None
    return f"{public_url.rstrip('/')}/dashboard/attempts/{attempt_id}"


def split_action(text: str) -> tuple[str, str | None]:
    """("what failed", "what to do") of a stored error: the action is the last sentence or
    clause that names an `/issuewright` command or says there is nothing to do."""
    text = " ".join(text.split())
    starts = [m.start() for m in _ACTION_START.finditer(text)]
    if not starts:
        return text, None
    cut = starts[-1]
    reason = text[:cut].rstrip(" .;")
    action = text[cut:].lstrip(" .;")
    return reason, action[:1].upper() + action[1:]


def _for_task(action: str, ordinal: int) -> str:
    """`/issuewright retry` → `/issuewright retry task N`: a comment acts on that task only."""
    return _COMMAND.sub(lambda m: f"`/issuewright {m.group(1)} task {ordinal}`", action)


def _command_of(action: str) -> str | None:
    found = _COMMAND.findall(action)
    return str(found[-1]) if found else None


def failure_notice(facts: FailureFacts) -> FailureNotice | None:
    """The task's failure as one reason and one action, or None when it has not failed."""
    if facts.state not in FAILURE_STATES:
        return None
    n = facts.ordinal
    reason, action = split_action(facts.last_error or "")
    reason = reason or ("checks failed" if facts.state == "checks_failed" else "the task stopped")
    ci = facts.state == "checks_failed" or reason.startswith(CI_EXHAUSTED_PREFIX)
    link = None
    if facts.state == "budget_exceeded":
        cause = FailureCause.BUDGET
    elif ci and facts.pr_number is not None:
        cause = FailureCause.CHECKS
    elif REFUSED_WORDS in reason:
        cause = FailureCause.REFUSED
        link = attempt_page(facts.public_url, facts.attempt_id)
    else:
        cause = FailureCause.ATTEMPT
    if cause == FailureCause.CHECKS and not facts.push_blocked:
        # The PR stays: the next step is a CI fix, never a `retry` (which starts over).
        if facts.state == "failed":
            action = f"Comment `/issuewright fix-ci task {n}` to try once more."
        elif action is None or _command_of(action) == "retry":
            action = "Nothing to do yet: the app fixes it itself while CI-fix attempts remain."
    action = _for_task(action or f"Comment `/issuewright retry task {n}` to try again.", n)
    return FailureNotice(cause, reason, action, _command_of(action), link)
