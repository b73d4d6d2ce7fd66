"""What the app makes of CI's check runs, and what its own check run shows of a task (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.core.checks import FAILED_CONCLUSIONS, latest_runs, mirror_fields, summarize_checks


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    status: str = "completed"
    conclusion: str | None = "success"
    app_slug: str = "github-actions"


@dataclass
class TaskRow:
    state: str
    head_sha: str | None = "abc123"
    ordinal: int = 2
    issue_number: int = 7
    title: str = "Add `mul`"
    last_error: str | None = None
    checks: str | None = None


@pytest.mark.parametrize(
    ("runs", "outcome", "text"),
    [
        ([], "running", "🔄 waiting"),
        ([Run(1, "test", "in_progress", None)], "running", "🔄 0/1"),
        ([Run(1, "test"), Run(2, "lint", "queued", None)], "running", "🔄 1/2"),
        ([Run(1, "test"), Run(2, "lint")], "passed", "✅ 2/2"),
        ([Run(1, "test"), Run(2, "lint", conclusion="failure")], "failed", "❌ 1/2 failed"),
        # A failure decides even while other runs are still going.
        (
            [Run(1, "test", conclusion="timed_out"), Run(2, "e2e", "in_progress", None)],
            "failed",
            "❌ 1/2 failed",
        ),
        (
            [Run(1, "docs", conclusion="skipped"), Run(2, "test", conclusion="neutral")],
            "passed",
            "✅ 2/2",
        ),
    ],
)
def test_summarize_checks(runs: list[Run], outcome: str, text: str) -> None:
    assert summarize_checks(runs) == (outcome, text)


def test_every_failing_conclusion_github_names_counts_as_failed() -> None:
    for conclusion in ("failure", "timed_out", "cancelled", "action_required", "startup_failure"):
        assert conclusion in FAILED_CONCLUSIONS
        assert summarize_checks([Run(1, "ci", conclusion=conclusion)])[0] == "failed"


def test_latest_runs_keeps_the_newest_per_app_and_name_and_drops_our_own() -> None:
    failed_then_passed = [Run(1, "test", conclusion="failure"), Run(5, "test")]
    other_app = [Run(3, "test", app_slug="circleci", conclusion="failure")]
    ours = [Run(9, "issuewright", "in_progress", None, app_slug="issuewright")]
    kept = latest_runs([*failed_then_passed, *other_app, *ours], own_slug="issuewright")
    assert [r.id for r in kept] == [3, 5]  # both apps' "test", newest each; sorted by id


@pytest.mark.parametrize(
    ("state", "status", "conclusion"),
    [
        ("pr_open", "completed", "neutral"),  # no CI has reported: not pending
        ("checks_running", "in_progress", None),
        ("fixing", "in_progress", None),
        ("checks_failed", "completed", "failure"),
        ("checks_passed", "completed", "success"),
        ("merged", "completed", "success"),
        ("failed", "completed", "failure"),
        ("budget_exceeded", "completed", "failure"),
        ("cancelled", "completed", "cancelled"),
        ("closed", "completed", "neutral"),
    ],
)
def test_the_check_run_mirrors_each_state_with_a_pr(
    state: str, status: str, conclusion: str | None
) -> None:
    fields = mirror_fields(TaskRow(state))
    assert fields is not None and fields["status"] == status
    assert fields.get("conclusion") == conclusion
    assert fields["output"]["summary"].startswith("Task 2 of #7: Add `mul`")


@pytest.mark.parametrize("state", ["planned", "queued", "generating", "blocked"])
def test_no_check_run_before_there_is_a_commit_to_put_it_on(state: str) -> None:
    assert mirror_fields(TaskRow(state, head_sha=None)) is None
    assert mirror_fields(TaskRow(state)) is None  # these states never have one


def test_errors_show_only_while_they_are_where_the_task_stands() -> None:
    failed = mirror_fields(
        TaskRow("checks_failed", last_error="tests fail: see https://ci.example/1")
    )
    passing = mirror_fields(TaskRow("checks_passed", last_error="an old failure"))
    assert failed is not None and "tests fail" in failed["output"]["summary"]
    assert "https://ci.example" not in failed["output"]["summary"]  # no URLs from errors
    assert passing is not None and "an old failure" not in passing["output"]["summary"]


def test_the_title_is_published_inert() -> None:
    fields = mirror_fields(TaskRow("pr_open", title="Ping @octo-org/admins about #12"))
    assert fields is not None
    summary = fields["output"]["summary"]
    assert "@octo-org" not in summary and " #12" not in summary
    assert len(summary) <= 1000
