"""Captured deliveries sent again, and repositories that change hands: the app acts once per
event, and state belongs to the repository (GitHub's id) and installation it was made in."""

from __future__ import annotations

import copy
import shutil
from typing import Any

import pytest
from sqlalchemy import delete, select

from bot.store import queue
from bot.store.models import Delivery, IssueRun, Job, Task, Transition
from tests.e2e.conftest import CALC_FILES, MAINTAINER, REPO, Scenario
from tests.e2e.tracker_helpers import (
    ADD_MUL,
    FIX_ADD,
    TWO_TASKS,
    pr_of,
    replies,
    start,
    status_text,
    tasks,
)
from tests.ghsim.webhooks import Delivery as SentDelivery
from tests.llm_stub import ScriptedLLM


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(FIX_ADD, ADD_MUL, FIX_ADD)


def _sent(scenario: Scenario, event: str, action: str) -> SentDelivery:
    return scenario.sim.webhooks(event, action)[-1]


async def _states(scenario: Scenario) -> list[tuple[int, str]]:
    return [(t.ordinal, t.state) for t in await tasks(scenario)]


async def _transitions(scenario: Scenario) -> int:
    async with scenario.harness.sessions() as session:
        return len((await session.execute(select(Transition))).scalars().all())


async def test_a_captured_label_body_sent_again_never_revives_a_cancelled_task(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    issue = await start(scenario, TWO_TASKS)
    labeled = _sent(scenario, "issues", "labeled")
    await sim.comment(REPO, issue.number, "/issuewright cancel task 2", user=MAINTAINER)
    await scenario.settle()
    before = await _states(scenario)
    assert before == [(1, "pr_open"), (2, "cancelled")]
    requests, transitions = len(scenario.llm.requests), await _transitions(scenario)

    # The same signed body under a new delivery id: a duplicate, not stored, not acted on.
    again = await scenario.harness.post("issues", labeled.payload, delivery="replay-1")
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    await scenario.settle()
    async with scenario.harness.sessions() as session:
        stored = (await session.execute(select(Delivery.delivery_id))).scalars().all()
        jobs = (await session.execute(select(Job).where(Job.delivery_id == "replay-1"))).all()
    assert "replay-1" not in stored and not jobs

    # Once the stored deliveries are pruned (as `cleanup` does), the body is new to the
    # receiver; the label application it carries was acted on already.
    async with scenario.harness.sessions() as session, session.begin():
        await session.execute(delete(Delivery))
    again = await scenario.harness.post("issues", labeled.payload, delivery="replay-2")
    assert again.status_code == 202 and again.json()["status"] == "queued"
    await scenario.settle()
    assert await _states(scenario) == before
    assert len(scenario.llm.requests) == requests
    assert await _transitions(scenario) == transitions
    assert len(sim.pulls(REPO)) == 1

    # A maintainer labelling again is a new application: it revives the cancelled task.
    await sim.unlabel_issue(REPO, issue.number, "issuewright", MAINTAINER)
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()
    assert (await tasks(scenario))[1].state == "blocked"  # waits for task 1 again


def _recreate(scenario: Scenario) -> Any:
    """The repository is deleted and a new one is made under the same name (a new id; the
    same installation covers the account)."""
    sim = scenario.sim
    old = sim.repo(REPO)
    del sim.state.repos[REPO.lower()]
    shutil.move(str(sim.root / "octo-org" / "calc.git"), str(sim.root / "deleted-calc.git"))
    new = sim.create_repo("octo-org", "calc", CALC_FILES)
    assert new.id != old.id
    return old, new


async def test_a_recreated_repository_never_sees_or_steers_the_old_tasks(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    issue = await start(scenario, TWO_TASKS)
    pr1 = pr_of(scenario, f"issuewright/{issue.number}-1")
    opened = copy.deepcopy(_sent(scenario, "pull_request", "opened").payload)
    before = await _states(scenario)
    assert before == [(1, "pr_open"), (2, "blocked")]
    old, new = _recreate(scenario)
    newcomer = "mallory"
    sim.set_permission(REPO, newcomer, "admin")

    # The new owner's issue and PR get the old numbers; commands there see nothing.
    mine = await sim.open_issue(REPO, "calc needs work", TWO_TASKS, user=newcomer)
    assert mine.number == issue.number
    asked = await sim.comment(REPO, mine.number, "/issuewright cancel", user=newcomer)
    await scenario.settle()
    assert sim.reactions(REPO, mine.number, asked.id) == ["eyes", "confused"]
    assert "no tasks on this issue yet" in replies(scenario, mine.number)[-1]

    # Their PR with the old PR's number is merged; a copy of the old PR's event under the
    # new repository id, and one from another installation, are no one's task either.
    merged = copy.deepcopy(opened)
    merged["action"] = "closed"
    merged["pull_request"]["merged"] = True
    merged["repository"]["id"] = new.id
    await scenario.harness.deliver("pull_request", merged)
    other = sim.create_installation("someone-else")
    foreign = copy.deepcopy(opened)
    foreign["action"], foreign["installation"]["id"] = "closed", other.id
    await scenario.harness.deliver("pull_request", foreign)
    assert await _states(scenario) == before

    # Labelling the new issue starts the new owner's own run beside the old one.
    await sim.label_issue(REPO, mine.number, "issuewright", user=newcomer)
    await scenario.settle()
    async with scenario.harness.sessions() as session:
        runs = (await session.execute(select(IssueRun).order_by(IssueRun.id))).scalars().all()
        rows = (await session.execute(select(Task).order_by(Task.id))).scalars().all()
    assert [r.repository_id for r in runs] == [old.id, new.id]
    assert [(t.repository_id, t.state) for t in rows[:2]] == [(old.id, s) for _, s in before]
    assert {t.repository_id for t in rows[2:]} == {new.id} and len(rows) == 4
    assert rows[2].state == "pr_open" and "| 1 |" in status_text(scenario, mine.number)
    assert old.issues[pr1.number].state == "open"  # the old PR was never touched


async def test_work_queued_for_the_old_repository_never_reaches_the_new_one(
    scenario: Scenario,
) -> None:
    """A generation job of the old repository's task runs after the name was taken by a new
    repository (same installation): it stops before any LLM call or push."""
    sim = scenario.sim
    issue = await start(scenario, TWO_TASKS)
    requests = len(scenario.llm.requests)
    _recreate(scenario)
    sim.set_permission(REPO, "mallory", "admin")
    theirs = await sim.open_issue(REPO, "unrelated", "hello", user="mallory")
    assert theirs.number == issue.number
    async with scenario.harness.sessions() as session, session.begin():
        second = (await session.execute(select(Task).where(Task.ordinal == 2))).scalar_one()
        second.state = "queued"  # as if its dependency had merged just before the deletion
        await queue.enqueue(session, "generate", {"task_id": second.id}, task_id=second.id)
    await scenario.settle()
    assert len(scenario.llm.requests) == requests
    assert sim.pulls(REPO) == [] and sim.branch_sha(REPO, f"issuewright/{issue.number}-2") is None
    assert sim.comments(REPO, theirs.number) == []  # nothing was written there
    async with scenario.harness.sessions() as session:
        job = (
            await session.execute(
                select(Job).where(Job.kind == "generate", Job.task_id == second.id)
            )
        ).scalar_one()
    assert job.status == "dead" and "no longer the repository" in (job.last_error or "")


async def test_the_old_tenants_open_prs_do_not_throttle_the_new_owner(scenario: Scenario) -> None:
    sim = scenario.sim
    await start(scenario, TWO_TASKS)
    assert (await _states(scenario))[0] == (1, "pr_open")  # the old tenant has one open PR
    _recreate(scenario)
    sim.set_permission(REPO, MAINTAINER, "admin")
    config = "llm_provider: openai\nllm_model: gpt-4o-mini\nmax_open_prs: 1\n"
    sim.repo(REPO).git.commit_files(
        "main", {".github/issuewright.yml": config}, "config", sim.author(MAINTAINER)
    )
    mine = await start(scenario, "calc.add returns the difference; make it return the sum.")
    async with scenario.harness.sessions() as session:
        rows = (await session.execute(select(Task).order_by(Task.id))).scalars().all()
    assert [t.state for t in rows if t.issue_number == mine.number and t.id > 2] == ["pr_open"]
    assert "waiting" not in status_text(scenario, mine.number)
