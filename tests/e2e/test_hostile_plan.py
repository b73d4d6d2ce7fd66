"""A hostile plan (hundreds of task items, each naming a hundred others) is computed off the
event loop: while it runs, the receiver stores and answers another delivery. The plan's work
blocks on a threading.Event (injected by replacing `bot.plan.planner.decompose`), so the test
knows the plan is still being computed without any timer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import select

from bot.plan import planner as planning
from bot.prompts.templates import PROMPTS_DIR
from bot.store.models import Delivery
from tests.e2e.conftest import CALC_FILES, MAINTAINER, REPO, Scenario
from tests.e2e.planning_helpers import BUG_REPORT, other_repo, status_of, tasks_in_db
from tests.hostile import NESTED_LOOPS, many_items

GUARD_SECONDS = 60  # only reached when the plan blocks the event loop (the bug)


async def test_a_delivery_is_stored_and_answered_while_a_hostile_plan_is_computed(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = scenario.sim
    started, release, answered = threading.Event(), threading.Event(), threading.Event()
    answered_during_plan: list[bool] = []
    real = planning.decompose

    def hostile_plan(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        started.set()
        release.wait(GUARD_SECONDS)
        answered_during_plan.append(answered.is_set())
        return result

    monkeypatch.setattr(planning, "decompose", hostile_plan)
    issue = await sim.open_issue(REPO, "Hundreds of operations", many_items(600, 100))
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await sim.flush()
    planning_jobs = asyncio.create_task(scenario.harness.drain())
    assert await asyncio.to_thread(started.wait, GUARD_SECONDS)

    deliver, sim.deliver = sim.deliver, None  # recorded only: this test posts it itself
    other = await sim.open_issue(REPO, "Something else", "Unrelated.")
    sim.deliver, delivery = deliver, sim.deliveries[-1]
    response = await scenario.harness.post(delivery.event, delivery.payload, "during-the-plan")
    assert response.status_code == 202
    async with scenario.harness.sessions() as session:
        stored = (
            await session.execute(select(Delivery).where(Delivery.delivery_id == "during-the-plan"))
        ).scalar_one()
    assert stored.event == "issues" and stored.action == "opened"
    assert not planning_jobs.done()
    answered.set()
    release.set()
    await planning_jobs
    await scenario.settle()

    assert answered_during_plan == [True]
    status = status_of(sim, REPO, issue.number).body
    assert "600 open tasks" in status and "limit is 10" in status
    assert await tasks_in_db(scenario) == []
    assert other.number != issue.number


async def test_a_prompt_override_with_nested_loops_falls_back_with_a_note(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    builtin = (PROMPTS_DIR / "bug_fix.md.j2").read_text(encoding="utf-8")
    files = {**CALC_FILES, ".github/issuewright/prompts/bug_fix.md.j2": builtin + NESTED_LOOPS}
    repo = other_repo(sim, files)
    issue = await sim.open_issue(repo, "calc.add returns the wrong result", BUG_REPORT)
    await sim.label_issue(repo, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()

    body = status_of(sim, repo, issue.number).body
    assert ".github/issuewright/prompts/bug_fix.md.j2" in body and "was not used" in body
    assert "steps" in body and "built-in `bug_fix` v1" in body
    assert len(scenario.llm.requests) == 1
    assert "# Fix a bug: issue #1 in octo-org/other" in scenario.llm.prompt_text(0)
    assert len(sim.pulls(repo)) == 1  # the work went on with the built-in template
