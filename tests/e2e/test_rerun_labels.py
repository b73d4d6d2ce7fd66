"""A label job killed after it started acting runs again and finishes, instead of taking
itself for "a repeated label event" and doing nothing.

The label event is marked as acted on when its work is done and shown, not before: a job
killed after storing the tasks but before queueing them and posting the status comment left
an issue with no comment and tasks that never ran; an unlabel killed after cancelling left a
status comment that never said so.
"""

from __future__ import annotations

import pytest

from bot.handlers import issues
from bot.plan import start as plan_start
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import kill_after, run_again, settle_until_killed
from tests.e2e.tracker_helpers import TWO_TASKS, pr_of, start, task, task_row


async def test_a_label_job_killed_after_storing_the_tasks_runs_them_when_run_again(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = scenario.sim
    switch = kill_after(monkeypatch, plan_start, "store_tasks")
    issue = await sim.open_issue(REPO, "calc needs work", BUG, user=MAINTAINER)
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await settle_until_killed(scenario, switch)
    assert scenario.status_comments(issue.number) == []

    await run_again(scenario)

    assert len(scenario.status_comments(issue.number)) == 1
    done = await task(scenario)
    assert done.state == "pr_open" and done.pr_number == pr_of(scenario, done.branch).number
    assert sim.reactions(REPO, issue.number) == ["eyes"]


async def test_an_unlabel_job_killed_after_cancelling_says_so_when_run_again(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = scenario.sim
    issue = await start(scenario, TWO_TASKS)  # task 2 waits for task 1's PR to merge
    assert "waiting for a dependency" in task_row(scenario, issue.number, 2)
    switch = kill_after(monkeypatch, issues, "cancel_not_started")
    await sim.unlabel_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await settle_until_killed(scenario, switch)

    await run_again(scenario)

    assert "cancelled" in task_row(scenario, issue.number, 2)
    [status] = scenario.status_comments(issue.number)
    assert "The trigger label was removed" in status.body
