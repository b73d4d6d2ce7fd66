"""People steer the app with comments: only those with write permission, once per comment,
and a running attempt stops at its next safe point when cancelled."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.store import queue
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.tracker_helpers import (
    FIX_ADD,
    command_runs,
    llm_script,
    notice_line,
    pr_of,
    replies,
    start,
    status_text,
    stored_id,
    task,
    task_row,
)
from tests.ghsim.edits import edit_comment
from tests.llm_stub import ScriptedLLM, chat_completion

OUTSIDER = "drive-by"
NO_EDITS = "I would rather not change anything."


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    return ScriptedLLM(*getattr(request, "param", (FIX_ADD,)))


async def failed_task(scenario: Scenario) -> Any:
    """An issue whose only task failed: the model answered twice without edits."""
    issue = await start(scenario, BUG)
    assert (await task(scenario)).state == "failed"
    assert len(scenario.llm.requests) == 2  # the answer and its repair round
    return issue


@llm_script(NO_EDITS, NO_EDITS, FIX_ADD)
async def test_retry_is_refused_to_outsiders_and_runs_once_per_comment(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    sim.set_permission(REPO, OUTSIDER, "read")
    issue = await failed_task(scenario)

    refused = await sim.comment(REPO, issue.number, "/issuewright retry", user=OUTSIDER)
    await scenario.settle()
    assert sim.reactions(REPO, issue.number, refused.id) == ["confused"]
    [denial] = replies(scenario, issue.number)
    assert f"@{OUTSIDER}" in denial and "write, maintain or admin" in denial
    assert len(scenario.llm.requests) == 2 and (await task(scenario)).state == "failed"

    asked = await sim.comment(REPO, issue.number, "/issuewright retry", user=MAINTAINER)
    await scenario.settle()
    assert sim.reactions(REPO, issue.number, asked.id) == ["eyes", "rocket"]
    assert len(scenario.llm.requests) == 3
    pr = pr_of(scenario, f"issuewright/{issue.number}-1")
    assert (await task(scenario)).state == "pr_open"

    # The comment's body comes again under a new delivery id (a duplicate: never stored
    # twice), and an operator replays the stored delivery.
    [created] = [
        d
        for d in sim.webhooks("issue_comment", "created")
        if d.payload["comment"]["id"] == asked.id
    ]
    again = await scenario.harness.post("issue_comment", created.payload, delivery="redelivered-1")
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    await queue.replay_delivery(scenario.harness.sessions, await stored_id(scenario, created))
    await scenario.settle()
    assert len(scenario.llm.requests) == 3
    assert [p.number for p in sim.pulls(REPO)] == [pr.number]
    assert sim.reactions(REPO, issue.number, asked.id) == ["eyes", "rocket"]
    assert len(replies(scenario, issue.number)) == 1  # only the denial
    ran = [c for c in await command_runs(scenario) if c.comment_id == asked.id]
    assert [c.outcome for c in ran] == ["done"]


@llm_script(NO_EDITS, NO_EDITS, FIX_ADD)
async def test_ticking_the_retry_box_retries_once(scenario: Scenario) -> None:
    sim = scenario.sim
    issue = await failed_task(scenario)
    [status] = scenario.status_comments(issue.number)
    assert "- [ ] retry task 1" in status.body
    assert "no edit blocks" in notice_line(scenario, issue.number, 1)

    ticked = status.body.replace("- [ ] retry task 1", "- [x] retry task 1")
    await edit_comment(sim, status.id, ticked, user=MAINTAINER)
    await scenario.settle()
    assert len(scenario.llm.requests) == 3
    assert (await task(scenario)).state == "pr_open"
    body = status_text(scenario, issue.number)
    assert "retry task 1" not in body  # the box goes once the retry starts
    assert task_row(scenario, issue.number, 1).endswith("| — |")  # the old error is gone

    # The same edit delivered again (a redelivery, a replay) retries nothing more.
    [edited] = sim.webhooks("issue_comment", "edited")
    await scenario.harness.post("issue_comment", edited.payload, delivery="edit-again")
    await scenario.settle()
    assert len(scenario.llm.requests) == 3 and len(sim.pulls(REPO)) == 1


@llm_script(NO_EDITS, NO_EDITS)
async def test_a_box_ticked_by_an_outsider_retries_nothing(scenario: Scenario) -> None:
    sim = scenario.sim
    sim.set_permission(REPO, OUTSIDER, "read")
    issue = await failed_task(scenario)
    [status] = scenario.status_comments(issue.number)
    ticked = status.body.replace("- [ ] retry task 1", "- [x] retry task 1")
    await edit_comment(sim, status.id, ticked, user=OUTSIDER)
    await scenario.settle()
    assert len(scenario.llm.requests) == 2 and (await task(scenario)).state == "failed"
    assert any(f"@{OUTSIDER}" in r for r in replies(scenario, issue.number))


async def test_rollback_closes_the_pr_and_deletes_the_branch(scenario: Scenario) -> None:
    sim = scenario.sim
    issue = await start(scenario, BUG)
    branch = f"issuewright/{issue.number}-1"
    pr = pr_of(scenario, branch)
    asked = await sim.comment(REPO, pr.number, "/issuewright rollback", user=MAINTAINER)
    await scenario.settle()
    assert replies(scenario, pr.number) == []
    assert sim.reactions(REPO, pr.number, asked.id) == ["eyes", "rocket"]
    assert sim.issue(REPO, pr.number).state == "closed" and not pr.pull.merged
    assert sim.branch_sha(REPO, branch) is None
    assert (await task(scenario)).state == "cancelled"
    assert "cancelled" in task_row(scenario, issue.number, 1)


async def test_cancel_during_generation_stops_before_pushing(scenario: Scenario) -> None:
    sim = scenario.sim

    async def cancel_then_answer(body: dict[str, Any]) -> httpx.Response:
        # A maintainer cancels while the model is still thinking; another worker handles
        # the comment before this answer arrives.
        number = next(iter(sim.repo(REPO).issues))
        await sim.comment(REPO, number, "/issuewright cancel", user=MAINTAINER)
        await scenario.harness.drain()
        return httpx.Response(200, json=chat_completion(FIX_ADD, body["model"], 100, 50))

    scenario.llm.answers = [cancel_then_answer]
    issue = await start(scenario, BUG)

    assert len(scenario.llm.requests) == 1
    assert sim.branch_sha(REPO, f"issuewright/{issue.number}-1") is None
    assert sim.pulls(REPO) == []
    stopped = await task(scenario)
    assert stopped.state == "cancelled"
    [cancel] = [c for c in sim.comments(REPO, issue.number) if c.body == "/issuewright cancel"]
    assert sim.reactions(REPO, issue.number, cancel.id) == ["eyes", "rocket"]
    assert "cancelled" in task_row(scenario, issue.number, 1)
    assert "- [ ] retry task 1" in status_text(scenario, issue.number)
