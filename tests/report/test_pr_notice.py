"""The failed task's comment on its PR (bot/report/pr_notice.py) says what the status comment
and the check run say, made inert like them."""

from __future__ import annotations

from bot.core.failure_notice import FailureFacts, ci_fix_used_up, failure_notice
from bot.core.render import notice_markdown
from bot.report.pr_notice import PR_NOTICE_MARKER, render_pr_notice
from bot.store.models import Task

HOSTILE = (
    "@acme/everyone see #12 <img src=x> https://evil.example/x — the model's answer was "
    "refused, also after a repair round, so nothing was pushed. Comment `/issuewright retry` "
    "to try again."
)


def _task(state: str, last_error: str | None) -> Task:
    return Task(
        ordinal=2, issue_number=7, state=state, last_error=last_error, pr_number=9, title="t"
    )


def test_the_pr_comment_is_the_notice_with_its_marker() -> None:
    task = _task("failed", ci_fix_used_up(2))
    notice = failure_notice(FailureFacts(2, "failed", task.last_error, pr_number=9))
    assert notice is not None
    body = render_pr_notice(task, notice)
    assert notice_markdown(notice) in body and PR_NOTICE_MARKER in body
    assert "`/issuewright fix-ci task 2`" in body and "retry" not in body


def test_the_pr_comment_makes_third_party_text_inert_and_links_the_attempt() -> None:
    facts = FailureFacts(2, "failed", HOSTILE, attempt_id=5, public_url="https://iw.example")
    notice = failure_notice(facts)
    assert notice is not None
    body = render_pr_notice(_task("failed", HOSTILE), notice)
    assert "@acme" not in body and "<img" not in body and "evil.example" not in body
    assert "#12" not in body.replace("#7", "")
    assert "(https://iw.example/dashboard/attempts/5)" in body


def test_the_pr_comment_says_when_the_failure_is_over() -> None:
    body = render_pr_notice(_task("pr_open", None), None)
    assert "failure shown here before is over" in body and "PR open" in body
