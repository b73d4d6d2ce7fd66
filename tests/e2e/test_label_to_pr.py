"""Labelling an issue yields exactly one PR holding exactly the expected change."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.store import queue
from bot.store.models import Delivery, Job, Task
from tests.e2e.conftest import MAINTAINER, REPO, Scenario


async def test_label_bug_report_opens_one_pr_with_the_fix(scenario: Scenario) -> None:
    sim = scenario.sim
    issue = await sim.open_issue(
        REPO, "add() subtracts", BUG_REPORT_TEXT, user="reporter", labels=[]
    )
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()

    pulls = sim.pulls(REPO)
    assert len(pulls) == 1
    pr = pulls[0]
    branch = f"issuewright/{issue.number}-1"
    fixed = sim.read_file(REPO, branch, "calc/ops.py")
    original = sim.read_file(REPO, "main", "calc/ops.py")
    assert fixed == original.replace("return a - b\n\n\ndef sub", "return a + b\n\n\ndef sub")
    assert sim.read_file(REPO, branch, "tests/test_ops.py") == sim.read_file(
        REPO, "main", "tests/test_ops.py"
    )
    assert f"Closes #{issue.number}" in pr.body and "calc/ops.py" in pr.body
    assert "eyes" in sim.reactions(REPO, issue.number)
    [status] = scenario.status_comments(issue.number)
    assert f"#{pr.number}" in status.body
    async with scenario.harness.sessions() as session:
        task = (await session.execute(select(Task))).scalar_one()
    assert task.state == "pr_open" and task.pr_number == pr.number and task.cost_usd > 0
    assert len(scenario.llm.requests) == 1

    # Redelivering the label webhook, or replaying it, makes no second PR or comment.
    labeled = [d for d in sim.webhooks("issues", "labeled")][-1]
    body = json.dumps(labeled.payload).encode()
    async with scenario.harness.sessions() as session:
        delivery_id = (
            await session.execute(select(Delivery.delivery_id).where(Delivery.action == "labeled"))
        ).scalar_one()
    again = await scenario.harness.post("issues", body, delivery=delivery_id)
    assert again.status_code == 200
    await queue.replay_delivery(scenario.harness.sessions, delivery_id)
    await scenario.settle()
    assert len(sim.pulls(REPO)) == 1
    assert len(scenario.status_comments(issue.number)) == 1
    assert len(scenario.llm.requests) == 1


BUG_REPORT_TEXT = """`calc.add` returns the difference instead of the sum.

### Steps to reproduce
1. `from calc import add`
2. `add(2, 3)`

### Expected behaviour
`5`
"""


async def test_issue_opened_with_the_label_gets_one_status_comment_with_two_workers(
    scenario: Scenario,
) -> None:
    """GitHub sends `opened` and `labeled` together; their jobs must not race."""
    import asyncio

    sim = scenario.sim
    sim.deliver, deliver = None, sim.deliver  # hold the webhooks back, then post them all
    issue = await sim.open_issue(
        REPO, "add() subtracts", BUG_REPORT_TEXT, user=MAINTAINER, labels=["issuewright"]
    )
    for delivery in sim.webhooks("issues"):
        await deliver(delivery.event, delivery.payload)
    sim.deliver = deliver
    await asyncio.gather(scenario.harness.drain(), scenario.harness.drain())
    await scenario.settle()
    assert len(scenario.status_comments(issue.number)) == 1
    assert len(sim.pulls(REPO)) == 1
    async with scenario.harness.sessions() as session:
        jobs = (await session.execute(select(Job))).scalars().all()
    assert [(j.status, j.last_error) for j in jobs if j.last_error or j.status != "done"] == []
