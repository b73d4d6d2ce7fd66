"""One failure, one message, one action: the decision (core/failure_notice.py) and the
status comment rendered from it (core/render.py)."""

from __future__ import annotations

from bot.core.checks import mirror_fields
from bot.core.failure_notice import (
    FailureCause,
    FailureFacts,
    ci_fix_queued,
    ci_fix_used_up,
    failure_notice,
    split_action,
)
from bot.core.render import StatusView, TaskView, render_status
from bot.core.repair import refusal_message
from tests.core.test_checks import TaskRow

REFUSED = (
    "calc/ops.py: SEARCH block not found — the model's answer was refused, also after a "
    "repair round, so nothing was pushed. Comment `/issuewright retry` to try again."
)
AUTH = (
    "The LLM provider rejected the API key (HTTP 401). Check LLM_API_KEY on the server (and "
    "its permissions), then comment `/issuewright retry`."
)


def test_a_ci_failure_with_attempts_left_asks_nothing() -> None:
    notice = failure_notice(FailureFacts(1, "checks_failed", ci_fix_queued(1, 2), pr_number=4))
    assert notice is not None and notice.cause == FailureCause.CHECKS
    assert notice.command is None
    assert "CI-fix attempt 1 of 2" in notice.reason and "1 more left" in notice.reason
    assert "retry" not in notice.text()


def test_a_ci_failure_with_no_attempts_left_asks_for_fix_ci_never_retry() -> None:
    notice = failure_notice(FailureFacts(2, "failed", ci_fix_used_up(2), pr_number=4))
    assert notice is not None and notice.cause == FailureCause.CHECKS
    assert notice.command == "fix-ci"
    assert notice.action == "Comment `/issuewright fix-ci task 2` to try once more."
    assert "retry" not in notice.text()


def test_a_fix_attempt_refused_while_checks_fail_still_waits_for_the_app() -> None:
    # The refused fix's own "retry" would start the task over; the tracker tries again.
    notice = failure_notice(FailureFacts(1, "checks_failed", REFUSED, pr_number=4))
    assert notice is not None and notice.cause == FailureCause.CHECKS
    assert notice.command is None and "retry" not in notice.action


def test_a_refused_answer_asks_for_retry_with_what_was_refused_and_the_attempt_page() -> None:
    facts = FailureFacts(3, "failed", REFUSED, attempt_id=17, public_url="https://iw.example/")
    notice = failure_notice(facts)
    assert notice is not None and notice.cause == FailureCause.REFUSED
    assert notice.reason.startswith("calc/ops.py: SEARCH block not found")
    assert notice.action == "Comment `/issuewright retry task 3` to try again."
    assert notice.link == "https://iw.example/dashboard/attempts/17"
    no_url = failure_notice(FailureFacts(3, "failed", REFUSED, attempt_id=17))
    assert no_url is not None and no_url.link is None


def test_refusal_messages_are_recognised_as_refusals() -> None:
    notice = failure_notice(FailureFacts(1, "failed", refusal_message([])))
    assert notice is not None and notice.cause == FailureCause.REFUSED


def test_other_failures_keep_what_their_cause_asks_first() -> None:
    notice = failure_notice(FailureFacts(1, "failed", AUTH))
    assert notice is not None and notice.cause == FailureCause.ATTEMPT
    assert notice.reason == "The LLM provider rejected the API key (HTTP 401)"
    assert notice.action.startswith("Check LLM_API_KEY")
    assert notice.action.endswith("`/issuewright retry task 1`.") and notice.command == "retry"
    bare = failure_notice(FailureFacts(2, "budget_exceeded", "over the month's cap"))
    assert bare is not None and bare.cause == FailureCause.BUDGET
    assert bare.action == "Comment `/issuewright retry task 2` to try again."


def test_no_notice_for_a_task_that_has_not_failed() -> None:
    for state in ("generating", "pr_open", "fixing", "checks_passed", "merged", "cancelled"):
        assert failure_notice(FailureFacts(1, state, "old trouble")) is None


def test_split_action_takes_the_last_instruction() -> None:
    reason, action = split_action("the job gave up (boom. bang). Comment `/issuewright retry`.")
    assert reason == "the job gave up (boom. bang)"
    assert action == "Comment `/issuewright retry`."
    assert split_action("no instruction here") == ("no instruction here", None)


def _view(**task: object) -> StatusView:
    values: dict[str, object] = {"ordinal": 1, "title": "Fix add", "task_type": "bug_fix"}
    values.update(task)
    last_error = values.get("last_error")
    facts = FailureFacts(
        1,
        str(values["state"]),
        str(last_error) if last_error else None,
        values.get("pr_number"),  # type: ignore[arg-type]
    )
    notes = values.pop("notes", ())
    return StatusView(tasks=[TaskView(**values, notice=failure_notice(facts))], notes=notes)  # type: ignore[arg-type]


def test_status_comment_says_a_ci_failure_once_with_one_action() -> None:
    # The reported case: a CI-fix attempt's answer was refused (its note says `retry`), then
    # the attempts ran out (the task's error says `fix-ci`), and a retry box stood beside it.
    body = render_status(
        _view(
            state="failed",
            pr_number=4,
            pr_url="https://github.com/o/r/pull/4",
            last_error=ci_fix_used_up(2),
            notes=[f"Task 1: {REFUSED}"],
        )
    )
    assert body.count("2 CI-fix attempt(s) are used up") == 1
    assert body.count("`/issuewright fix-ci task 1`") == 1
    assert "retry task 1" not in body and "Comment `/issuewright retry`" not in body
    assert "SEARCH block not found" not in body  # the old note is history


def test_status_comment_offers_a_refused_answers_retry_once_as_a_box() -> None:
    body = render_status(_view(state="failed", last_error=REFUSED, notes=[f"Task 1: {REFUSED}"]))
    assert body.count("SEARCH block not found") == 1
    [line] = [line for line in body.splitlines() if "SEARCH block not found" in line]
    assert line.startswith("- [ ] retry task 1 — **Task 1, answer refused**")
    assert line.count("retry task 1") == 2  # the box and the same command, nothing else
    assert "fix-ci task" not in body
    assert "Tick a box to retry" not in body  # no second, generic box for it
    row = next(line for line in body.splitlines() if line.startswith("| 1 |"))
    assert row.endswith("| answer refused, see below |")


def test_the_check_run_says_the_same_as_the_status_comment() -> None:
    notice = failure_notice(FailureFacts(2, "failed", ci_fix_used_up(1), pr_number=4))
    fields = mirror_fields(TaskRow("failed", last_error=ci_fix_used_up(1)), notice)
    assert fields is not None and fields["conclusion"] == "failure"
    summary = fields["output"]["summary"]
    assert "1 CI-fix attempt(s) are used up. Comment `/issuewright fix-ci task 2`" in summary
    assert summary.count("fix-ci") == 1 and "retry" not in summary


def test_the_check_run_is_neutral_until_ci_reports() -> None:
    fields = mirror_fields(TaskRow("pr_open"))
    assert fields is not None
    assert (fields["status"], fields["conclusion"]) == ("completed", "neutral")
    assert "no CI has reported" in fields["output"]["title"]
    running = mirror_fields(TaskRow("checks_running"))
    assert running is not None and running["status"] == "in_progress"


def test_a_generating_row_shows_tokens_so_far_and_elapsed_time() -> None:
    view = StatusView(
        tasks=[
            TaskView(
                1, "Fix add", "bug_fix", "generating", streamed_tokens=1234, elapsed_seconds=80
            )
        ]
    )
    row = next(line for line in render_status(view).splitlines() if line.startswith("| 1 |"))
    assert "⚙️ generating — 1,234 tokens so far, 1 m 20 s" in row
