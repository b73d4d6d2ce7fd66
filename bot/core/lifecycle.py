"""The task state machine: every state change of a task is decided here, from one table.

Pure: no I/O, no clock, no database. The tracker and handlers call `transition(state, event)`,
persist the result together with its cause (delivery id, comment id or job id) and act on it.
An event that does not fit the current state comes back with ``applied=False`` and a reason
so it can be recorded and ignored; nothing here raises on a bad event.

``push_blocked`` is a flag kept beside the state, not a state: when someone else commits to
the app's branch the task keeps following its PR (checks, review, merge still matter), but
the app must stop pushing to that branch. A state for it would have to be duplicated for
every PR state (pr_open+blocked, checks_failed+blocked, ...). The flag is set by
``foreign_commit``, cleared by ``retry`` (which starts again on a fresh branch), and while it
is set the events that would push to the branch are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

_E = TypeVar("_E", bound=StrEnum)


class TaskState(StrEnum):
    PLANNED = "planned"
    QUEUED = "queued"
    GENERATING = "generating"
    PR_OPEN = "pr_open"
    CHECKS_RUNNING = "checks_running"
    CHECKS_PASSED = "checks_passed"
    CHECKS_FAILED = "checks_failed"
    FIXING = "fixing"  # an attempt on the existing branch (CI fix or review feedback)
    MERGED = "merged"
    BLOCKED = "blocked"  # waits for the PR of the task it depends on to merge
    CANCELLED = "cancelled"
    FAILED = "failed"
    CLOSED = "closed"  # PR closed without merge
    BUDGET_EXCEEDED = "budget_exceeded"


class TaskEvent(StrEnum):
    ENQUEUE = "enqueue"
    BLOCK = "block"  # a dependency is not merged yet
    UNBLOCK = "unblock"  # the dependency merged
    START_GENERATION = "start_generation"
    PR_OPENED = "pr_opened"
    GENERATION_FAILED = "generation_failed"
    CHECKS_STARTED = "checks_started"
    CHECKS_SUCCEEDED = "checks_succeeded"
    CHECKS_FAILED = "checks_failed"
    FIX_STARTED = "fix_started"  # a CI-fix attempt (automatic or `fix-ci`)
    FIX_PUSHED = "fix_pushed"
    FIX_FAILED = "fix_failed"  # this attempt produced nothing; attempts may remain
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    REVIEW_CHANGES_REQUESTED = "review_changes_requested"
    FEEDBACK_PUSHED = "feedback_pushed"
    MERGED = "merged"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCEL = "cancel"
    ROLLED_BACK = "rolled_back"  # `rollback`: PR closed, branch deleted
    RETRY = "retry"
    BUDGET_EXCEEDED = "budget_exceeded"
    LABEL_REMOVED = "label_removed"  # cancels only work that has not started
    FOREIGN_COMMIT = "foreign_commit"  # someone else's commit on the app's branch
    # The task's job was dead-lettered (timed out, its worker lost, failed every try): no job
    # will finish the attempt, so the task stops where `retry` can start it again.
    JOB_GAVE_UP = "job_gave_up"


S = TaskState
E = TaskEvent

TERMINAL_STATES: frozenset[TaskState] = frozenset({S.MERGED})
# Stopped: the app does nothing more on its own, but a person can `retry`.
STOPPED_STATES: frozenset[TaskState] = frozenset(
    {S.FAILED, S.CANCELLED, S.CLOSED, S.BUDGET_EXCEEDED}
)
ACTIVE_STATES: frozenset[TaskState] = frozenset(TaskState) - TERMINAL_STATES - STOPPED_STATES
NOT_STARTED: frozenset[TaskState] = frozenset({S.PLANNED, S.QUEUED, S.BLOCKED})
# An attempt is running that will push to the branch: the one-job-per-task rule.
ATTEMPT_RUNNING: frozenset[TaskState] = frozenset({S.GENERATING, S.FIXING})
# The PR is open and the app is following it (no attempt running).
FOLLOWING_PR: frozenset[TaskState] = frozenset(
    {S.PR_OPEN, S.CHECKS_RUNNING, S.CHECKS_PASSED, S.CHECKS_FAILED}
)
# States in which a branch of the app may exist.
HAS_BRANCH: frozenset[TaskState] = frozenset(TaskState) - {S.PLANNED, S.BLOCKED, S.QUEUED, S.MERGED}
# Events that would make the app push to the branch, refused while push_blocked.
PUSHING_EVENTS: frozenset[TaskEvent] = frozenset({E.FIX_STARTED, E.REVIEW_CHANGES_REQUESTED})


def _build() -> Mapping[tuple[TaskState, TaskEvent], TaskState]:
    table: dict[tuple[TaskState, TaskEvent], TaskState] = {}

    def edge(sources: Iterable[TaskState], event: TaskEvent, target: TaskState | None) -> None:
        """Add `source --event--> target` for each source; target None means "stays"."""
        for source in sources:
            # A duplicate key would mean two rules disagree; fail at import, not at run time.
            if (source, event) in table:
                raise RuntimeError(f"two rules for {source} on {event}")
            table[source, event] = source if target is None else target

    edge([S.PLANNED], E.ENQUEUE, S.QUEUED)
    edge([S.PLANNED, S.QUEUED], E.BLOCK, S.BLOCKED)
    edge([S.BLOCKED], E.UNBLOCK, S.QUEUED)
    edge([S.QUEUED], E.START_GENERATION, S.GENERATING)
    edge([S.GENERATING], E.PR_OPENED, S.PR_OPEN)
    edge([S.GENERATING], E.GENERATION_FAILED, S.FAILED)
    edge([S.QUEUED, *ATTEMPT_RUNNING], E.JOB_GAVE_UP, S.FAILED)
    # Checks: a "completed" may arrive without a "requested" first (lost or reordered
    # delivery), and people re-run checks, so results are accepted from every PR state.
    edge([S.PR_OPEN, S.CHECKS_PASSED, S.CHECKS_FAILED], E.CHECKS_STARTED, S.CHECKS_RUNNING)
    edge([S.PR_OPEN, S.CHECKS_RUNNING, S.CHECKS_FAILED], E.CHECKS_SUCCEEDED, S.CHECKS_PASSED)
    edge([S.PR_OPEN, S.CHECKS_RUNNING, S.CHECKS_PASSED], E.CHECKS_FAILED, S.CHECKS_FAILED)
    # FAILED too: `fix-ci` after attempts ran out (the handler checks that a PR exists).
    edge([S.CHECKS_FAILED, S.FAILED], E.FIX_STARTED, S.FIXING)
    edge([S.FIXING], E.FIX_PUSHED, S.PR_OPEN)
    edge([S.FIXING], E.FIX_FAILED, S.CHECKS_FAILED)  # the tracker decides if another try
    edge([S.CHECKS_FAILED, S.FIXING], E.ATTEMPTS_EXHAUSTED, S.FAILED)
    # FIXING means "an attempt on the branch is queued or running", so entering it is what
    # keeps a second job from pushing to the same branch.
    edge(FOLLOWING_PR, E.REVIEW_CHANGES_REQUESTED, S.FIXING)
    edge([S.FIXING], E.FEEDBACK_PUSHED, S.PR_OPEN)
    # A merge is a fact GitHub reports about the task's PR (the tracker only sends it for a
    # PR it matched to this task); even a cancelled or failed task's PR may be merged by hand.
    edge(frozenset(TaskState) - {S.MERGED}, E.MERGED, S.MERGED)
    # Failed / over-budget tasks keep their PR open for people; closing it is news.
    edge(FOLLOWING_PR | {S.FIXING, S.FAILED, S.BUDGET_EXCEEDED}, E.CLOSED, S.CLOSED)
    edge([S.CLOSED], E.REOPENED, S.PR_OPEN)
    # Running attempts check the state at their next safe point and stop when it is cancelled.
    edge(ACTIVE_STATES, E.CANCEL, S.CANCELLED)
    edge(frozenset(TaskState) - {S.MERGED}, E.ROLLED_BACK, S.CANCELLED)
    # Retry also from an open PR: that is how a task whose branch got a foreign commit starts
    # again on a fresh branch. Never while an attempt runs (two pushes would race).
    edge(STOPPED_STATES | FOLLOWING_PR, E.RETRY, S.QUEUED)
    edge(ACTIVE_STATES, E.BUDGET_EXCEEDED, S.BUDGET_EXCEEDED)
    edge(NOT_STARTED, E.LABEL_REMOVED, S.CANCELLED)
    # The state stays; only the push_blocked flag changes (see module docstring).
    edge(HAS_BRANCH, E.FOREIGN_COMMIT, None)
    return MappingProxyType(table)


TRANSITIONS: Mapping[tuple[TaskState, TaskEvent], TaskState] = _build()

# What an applied event does to the push_blocked flag (None: unchanged).
PUSH_BLOCK_EFFECTS: Mapping[TaskEvent, bool] = MappingProxyType(
    {E.FOREIGN_COMMIT: True, E.RETRY: False}
)

# Reasons for refusals a person is likely to run into; the rest get a generic reason.
_REFUSALS: Mapping[tuple[TaskState, TaskEvent], str] = MappingProxyType(
    {
        **{
            (s, E.RETRY): f"an attempt is running ({s}); wait for it or cancel it first"
            for s in ATTEMPT_RUNNING
        },
        **{(s, E.RETRY): f"the task is already waiting to run ({s})" for s in NOT_STARTED},
        **{
            (s, E.LABEL_REMOVED): "work already started; use the cancel command to stop it"
            for s in ACTIVE_STATES - NOT_STARTED
        },
        **{
            (s, E.CANCEL): f"the task already stopped ({s}); nothing to cancel"
            for s in STOPPED_STATES
        },
        **{
            (s, e): "an attempt is running on the branch; checks of its new commit are followed"
            " after it pushes"
            for s in ATTEMPT_RUNNING
            for e in (E.CHECKS_STARTED, E.CHECKS_SUCCEEDED, E.CHECKS_FAILED)
        },
        (S.FIXING, E.REVIEW_CHANGES_REQUESTED): "an attempt is already running on the branch",
        (S.BLOCKED, E.START_GENERATION): "the task waits for the PR it depends on to merge",
    }
)


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of one event: what to persist, and whether anything changed."""

    old_state: TaskState
    event: TaskEvent
    new_state: TaskState
    applied: bool
    reason: str
    # New value of the push_blocked flag, or None when this event leaves it as it was.
    push_blocked: bool | None = None


def transition(state: TaskState, event: TaskEvent, *, push_blocked: bool = False) -> Transition:
    """Decide what `event` does to a task in `state`. Never raises.

    Plain strings equal to a member's value work too (StrEnum hashes like str). An unknown
    string (say, a value written by a newer version) is refused and echoed back unchanged
    rather than raised: a crash here would leave a delivery without an outcome.
    """
    state = _coerce(TaskState, state)
    event = _coerce(TaskEvent, event)
    target = TRANSITIONS.get((state, event))
    if target is None:
        return Transition(state, event, state, False, _refusal(state, event))
    if push_blocked and event in PUSHING_EVENTS:
        return Transition(
            state,
            event,
            state,
            False,
            "someone else committed to the app's branch, so the app no longer pushes to it;"
            " retry starts again on a fresh branch",
        )
    flag = PUSH_BLOCK_EFFECTS.get(event)
    if target == state:
        reason = f"{event} recorded; the task stays {state}"
    else:
        reason = f"{state} → {target} on {event}"
    return Transition(state, event, target, True, reason, flag)


def _coerce(kind: type[_E], value: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return value


def _refusal(state: TaskState, event: TaskEvent) -> str:
    if (state, event) in _REFUSALS:
        return _REFUSALS[state, event]
    if state in TERMINAL_STATES:
        return f"the task is {state}; nothing changes it ({event} ignored)"
    return f"{event} does not apply to a task that is {state}"


def is_terminal(state: TaskState) -> bool:
    """Nothing moves the task on (merged)."""
    return state in TERMINAL_STATES


def is_stopped(state: TaskState) -> bool:
    """The app does nothing more on its own; a person can retry."""
    return state in STOPPED_STATES


def is_active(state: TaskState) -> bool:
    """The task still has work ahead that the app does or waits for."""
    return state in ACTIVE_STATES


def is_done(state: TaskState) -> bool:
    """No further progress without a person: what "all tasks finished" is counted on."""
    return state not in ACTIVE_STATES


def can_retry(state: TaskState) -> bool:
    return (state, E.RETRY) in TRANSITIONS


def can_cancel(state: TaskState) -> bool:
    return (state, E.CANCEL) in TRANSITIONS


def allowed_events(state: TaskState) -> frozenset[TaskEvent]:
    """Events that change or are recorded for `state` (used by help, status and tests)."""
    return frozenset(event for (source, event) in TRANSITIONS if source == state)
