"""The task state machine: every (state, event) pair, the diagram's paths, random walks."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.lifecycle import (
    ACTIVE_STATES,
    STOPPED_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    TaskEvent,
    TaskState,
    allowed_events,
    can_cancel,
    can_retry,
    is_active,
    is_done,
    is_stopped,
    is_terminal,
    transition,
)

S = TaskState
E = TaskEvent
ALL_PAIRS = list(itertools.product(TaskState, TaskEvent))
# Events that are recorded without moving the task (only flags or side effects change).
SELF_LOOPS = {(s, E.FOREIGN_COMMIT) for s in TaskState} | {(S.CANCELLED, E.ROLLED_BACK)}


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=lambda v: str(v))
def test_every_state_event_pair(state: TaskState, event: TaskEvent) -> None:
    result = transition(state, event)
    assert result.old_state is state
    assert result.event is event
    assert result.reason.strip()
    if (state, event) in TRANSITIONS:
        assert result.applied
        assert result.new_state is TRANSITIONS[state, event]
        if (state, event) not in SELF_LOOPS:
            assert result.new_state is not state
    else:
        assert not result.applied
        assert result.new_state is state
        assert result.push_blocked is None


def test_table_only_uses_known_states_and_events() -> None:
    for (state, event), target in TRANSITIONS.items():
        assert isinstance(state, TaskState)
        assert isinstance(event, TaskEvent)
        assert isinstance(target, TaskState)
    used = {event for (_, event) in TRANSITIONS}
    assert used == set(TaskEvent), f"events never applied: {set(TaskEvent) - used}"


def test_states_are_partitioned() -> None:
    assert TERMINAL_STATES | STOPPED_STATES | ACTIVE_STATES == set(TaskState)
    assert not TERMINAL_STATES & STOPPED_STATES
    assert not TERMINAL_STATES & ACTIVE_STATES
    assert not STOPPED_STATES & ACTIVE_STATES
    assert TERMINAL_STATES == {S.MERGED}
    assert STOPPED_STATES == {S.FAILED, S.CANCELLED, S.CLOSED, S.BUDGET_EXCEEDED}


def test_every_state_is_reachable_from_planned_and_can_reach_merged() -> None:
    reachable = {S.PLANNED}
    todo = deque([S.PLANNED])
    while todo:
        state = todo.popleft()
        for event in allowed_events(state):
            target = TRANSITIONS[state, event]
            if target not in reachable:
                reachable.add(target)
                todo.append(target)
    assert reachable == set(TaskState)
    for state in set(TaskState) - TERMINAL_STATES:
        assert (state, E.MERGED) in TRANSITIONS, state


def walk(*steps: tuple[TaskEvent, TaskState], start: TaskState = S.PLANNED) -> None:
    state = start
    for event, expected in steps:
        result = transition(state, event)
        assert result.applied, (state, event, result.reason)
        assert result.new_state is expected, (state, event)
        state = result.new_state


def test_happy_path() -> None:
    walk(
        (E.ENQUEUE, S.QUEUED),
        (E.START_GENERATION, S.GENERATING),
        (E.PR_OPENED, S.PR_OPEN),
        (E.CHECKS_STARTED, S.CHECKS_RUNNING),
        (E.CHECKS_SUCCEEDED, S.CHECKS_PASSED),
        (E.MERGED, S.MERGED),
    )


def test_ci_fix_loop_then_pass() -> None:
    walk(
        (E.CHECKS_STARTED, S.CHECKS_RUNNING),
        (E.CHECKS_FAILED, S.CHECKS_FAILED),
        (E.FIX_STARTED, S.FIXING),
        (E.FIX_PUSHED, S.PR_OPEN),
        (E.CHECKS_STARTED, S.CHECKS_RUNNING),
        (E.CHECKS_SUCCEEDED, S.CHECKS_PASSED),
        start=S.PR_OPEN,
    )


def test_fix_failure_and_exhaustion() -> None:
    walk((E.FIX_FAILED, S.CHECKS_FAILED), (E.ATTEMPTS_EXHAUSTED, S.FAILED), start=S.FIXING)
    walk((E.ATTEMPTS_EXHAUSTED, S.FAILED), start=S.FIXING)
    # `fix-ci` by a person after the automatic attempts ran out.
    walk((E.FIX_STARTED, S.FIXING), start=S.FAILED)


def test_review_feedback_on_the_same_branch() -> None:
    for state in (S.PR_OPEN, S.CHECKS_RUNNING, S.CHECKS_PASSED, S.CHECKS_FAILED):
        walk((E.REVIEW_CHANGES_REQUESTED, S.FIXING), (E.FEEDBACK_PUSHED, S.PR_OPEN), start=state)
    busy = transition(S.FIXING, E.REVIEW_CHANGES_REQUESTED)
    assert not busy.applied and "already running" in busy.reason


def test_a_task_whose_job_gave_up_fails_and_can_be_retried() -> None:
    for state in (S.QUEUED, S.GENERATING, S.FIXING):
        walk((E.JOB_GAVE_UP, S.FAILED), (E.RETRY, S.QUEUED), start=state)
    for state in (S.PR_OPEN, S.CHECKS_FAILED, S.FAILED):  # no attempt was left hanging
        assert not transition(state, E.JOB_GAVE_UP).applied


def test_blocked_waits_for_dependency() -> None:
    walk((E.BLOCK, S.BLOCKED), (E.UNBLOCK, S.QUEUED), (E.START_GENERATION, S.GENERATING))
    walk((E.BLOCK, S.BLOCKED), start=S.QUEUED)
    early = transition(S.BLOCKED, E.START_GENERATION)
    assert not early.applied and "depends on" in early.reason


def test_cancel_and_label_removed() -> None:
    for state in ACTIVE_STATES:
        assert transition(state, E.CANCEL).new_state is S.CANCELLED
        assert can_cancel(state)
    for state in (S.PLANNED, S.QUEUED, S.BLOCKED):
        assert transition(state, E.LABEL_REMOVED).new_state is S.CANCELLED
    late = transition(S.GENERATING, E.LABEL_REMOVED)
    assert not late.applied and "cancel command" in late.reason
    again = transition(S.CANCELLED, E.CANCEL)
    assert not again.applied and "already stopped" in again.reason


def test_generation_failure_closed_reopened_rollback() -> None:
    walk((E.GENERATION_FAILED, S.FAILED), start=S.GENERATING)
    for state in (S.PR_OPEN, S.CHECKS_RUNNING, S.CHECKS_PASSED, S.CHECKS_FAILED, S.FIXING):
        walk((E.CLOSED, S.CLOSED), (E.REOPENED, S.PR_OPEN), start=state)
    for state in set(TaskState) - TERMINAL_STATES:
        assert transition(state, E.ROLLED_BACK).new_state is S.CANCELLED


def test_budget_exceeded_from_every_active_state() -> None:
    for state in TaskState:
        result = transition(state, E.BUDGET_EXCEEDED)
        assert result.applied is (state in ACTIVE_STATES)
    # The PR stays open for people, so its merge or close is still followed.
    walk((E.MERGED, S.MERGED), start=S.BUDGET_EXCEEDED)
    walk((E.CLOSED, S.CLOSED), start=S.BUDGET_EXCEEDED)


def test_retry() -> None:
    for state in STOPPED_STATES:
        assert can_retry(state)
        walk((E.RETRY, S.QUEUED), start=state)
    for state in (S.GENERATING, S.FIXING):
        refused = transition(state, E.RETRY)
        assert not refused.applied and "attempt is running" in refused.reason
        assert not can_retry(state)
    for state in (S.PLANNED, S.QUEUED, S.BLOCKED):
        assert "already waiting" in transition(state, E.RETRY).reason
    assert not can_retry(S.MERGED)


def test_merged_accepts_nothing() -> None:
    assert allowed_events(S.MERGED) == frozenset()
    for event in TaskEvent:
        result = transition(S.MERGED, event)
        assert not result.applied and result.new_state is S.MERGED
        assert "merged" in result.reason


def test_foreign_commit_blocks_pushing_until_retry() -> None:
    mark = transition(S.CHECKS_FAILED, E.FOREIGN_COMMIT)
    assert mark.applied and mark.new_state is S.CHECKS_FAILED and mark.push_blocked is True
    for state, event in ((S.CHECKS_FAILED, E.FIX_STARTED), (S.PR_OPEN, E.REVIEW_CHANGES_REQUESTED)):
        refused = transition(state, event, push_blocked=True)
        assert not refused.applied and refused.new_state is state
        assert "fresh branch" in refused.reason
    # Following the PR goes on: checks, merge and close still apply.
    assert transition(S.CHECKS_FAILED, E.CHECKS_SUCCEEDED, push_blocked=True).applied
    assert transition(S.CHECKS_FAILED, E.MERGED, push_blocked=True).applied
    retry = transition(S.CHECKS_FAILED, E.RETRY, push_blocked=True)
    assert retry.applied and retry.new_state is S.QUEUED and retry.push_blocked is False
    assert not transition(S.PLANNED, E.FOREIGN_COMMIT).applied  # no branch yet


def test_predicates() -> None:
    assert is_terminal(S.MERGED) and not is_active(S.MERGED) and is_done(S.MERGED)
    assert is_stopped(S.FAILED) and is_done(S.FAILED) and not is_terminal(S.FAILED)
    assert is_active(S.BLOCKED) and not is_done(S.BLOCKED)


def test_plain_strings_and_unknown_values() -> None:
    result = transition("planned", "enqueue")  # type: ignore[arg-type]
    assert result.applied and result.new_state is S.QUEUED
    unknown = transition("archived", "enqueue")  # type: ignore[arg-type]
    assert not unknown.applied and unknown.new_state == "archived"
    assert not transition(S.PLANNED, "explode").applied  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(TaskEvent)), max_size=40))
def test_random_event_sequences_never_raise(events: list[TaskEvent]) -> None:
    state, push_blocked = S.PLANNED, False
    for event in events:
        result = transition(state, event, push_blocked=push_blocked)
        assert result.new_state in TaskState
        if not result.applied:
            assert result.new_state is state
        if state is S.MERGED:
            assert result.new_state is S.MERGED
        if result.push_blocked is not None:
            push_blocked = result.push_blocked
        state = result.new_state
