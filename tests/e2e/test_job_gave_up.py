"""A generate job dead-lettered (timed out on every try, or its worker lost every time) leaves
its task failed, says why on the status comment, and `/issuewright retry` starts it again.

Before, the task stayed "generating" for good: the table said it was being worked on, and a
retry was refused because "an attempt is running".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.jobs.worker import Worker
from bot.store import queue
from bot.store.models import Job, utcnow
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import FIX_ADD, MAINTAINER, REPO, Scenario, scenario_with
from tests.e2e.kill_helpers import Killed
from tests.e2e.tracker_helpers import (
    notice_line,
    pr_of,
    replies,
    task,
    task_row,
)
from tests.ghsim.simulator import GitHubSimulator
from tests.llm_stub import ScriptedLLM, chat_completion


class Model:
    """The LLM stand-in: hangs (the job runs past JOB_TIMEOUT_SECONDS), takes the worker down
    with it (a kill while waiting for the answer), or answers."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def answer(self, body: dict[str, Any]) -> httpx.Response:
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "kill":
            raise Killed
        return httpx.Response(200, json=chat_completion(FIX_ADD, body["model"], 100, 50))


@pytest.fixture(params=["hang", "kill"], ids=["timed-out", "worker-lost"])
def model(request: pytest.FixtureRequest) -> Model:
    return Model(request.param)


@pytest.fixture
async def scenario(
    tmp_path: Path, sqlite_url: str, github_sim: GitHubSimulator, model: Model
) -> AsyncIterator[Scenario]:
    async with scenario_with(tmp_path, sqlite_url, github_sim, ScriptedLLM(model.answer)) as s:
        yield s


async def label_and_plan(scenario: Scenario) -> int:
    """A maintainer labels an issue; the app plans it (only the deliveries run: the task's
    generate job stays queued)."""
    sim = scenario.sim
    issue = await sim.open_issue(REPO, "calc needs work", BUG, user=MAINTAINER)
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await sim.flush()
    async with scenario.harness.sessions() as session:
        query = select(func.count()).where(Job.kind == "delivery", Job.status == "queued")
        deliveries = (await session.execute(query)).scalar_one()
    worker = Worker(scenario.harness.ctx, scenario.harness.app.state.router, concurrency=1)
    assert await worker.drain(limit=deliveries) == deliveries
    assert (await generate_job(scenario)).status == "queued"
    return issue.number


async def generate_job(scenario: Scenario) -> Job:
    async with scenario.harness.sessions() as session:
        query = select(Job).where(Job.kind == "generate")
        return (await session.execute(query)).scalar_one()


async def run_until_dead(scenario: Scenario, model: Model) -> Job:
    """Every try of the generate job times out or loses its worker, until its last."""
    db = scenario.harness.sessions
    for _ in range(10):
        if model.mode == "kill":
            with pytest.raises(Killed):
                await scenario.settle()
            later = utcnow() + timedelta(seconds=scenario.settings.job_lease_seconds + 1)
            await queue.recover_expired_leases(db, now=later)
        else:
            await scenario.settle()  # timed out: retried with backoff, after a while
            async with db() as session, session.begin():
                await session.execute(
                    update(Job).where(Job.status == "queued").values(run_after=utcnow())
                )
        job = await generate_job(scenario)
        if job.status == "dead":
            return job
    raise AssertionError("the generate job was never dead-lettered")


async def test_a_task_whose_job_gave_up_fails_with_the_reason_and_can_be_retried(
    scenario: Scenario, model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = scenario.sim
    number = await label_and_plan(scenario)
    if model.mode == "hang":  # the job never ends: a short limit is reached every time
        monkeypatch.setattr(Worker, "job_timeout_seconds", property(lambda _self: 0.2))
    dead = await run_until_dead(scenario, model)
    assert dead.attempts == dead.max_attempts
    why = "JOB_TIMEOUT_SECONDS" if model.mode == "hang" else "worker lost"

    model.mode = "answer"
    monkeypatch.undo()  # jobs get their usual time again
    await scenario.settle()
    stopped = await task(scenario)
    assert stopped.state == "failed"
    row = task_row(scenario, number, 1)
    assert "failed" in row and "attempt failed" in row
    note = notice_line(scenario, number, 1)
    assert f"gave up after {dead.attempts} tries (" in note and why in note
    assert "/issuewright retry task 1" in note and note.startswith("- [ ] retry task 1")

    asked = await sim.comment(REPO, number, "/issuewright retry", user=MAINTAINER)
    await scenario.settle()
    assert sim.reactions(REPO, number, asked.id) == ["eyes", "rocket"]
    assert replies(scenario, number) == []
    retried = await task(scenario)
    assert retried.state == "pr_open"
    assert retried.pr_number == pr_of(scenario, retried.branch).number
