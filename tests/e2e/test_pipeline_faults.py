"""Faults at the pipeline's edges (LLM endpoint, GitHub), budgets, throttles and re-run jobs,
through the app and the simulated GitHub: each ends in a state a person can read in the
status comment, never with a second PR or comment, and never with a job left unfinished."""

from __future__ import annotations

import asyncio
import types
from datetime import timedelta
from typing import Any

import httpx
import pytest
from githubkit import core as githubkit_core
from sqlalchemy import update

from bot.core.policy import LLMChoice
from bot.llm.factory import make_client
from bot.llm.retry import RetryPolicy
from bot.store import queue
from bot.store.models import Job, Task, utcnow
from tests.e2e.conftest import FIX_ADD, MAINTAINER, REPO, Scenario
from tests.e2e.pipeline_helpers import (
    GitHubFaults,
    assert_jobs_finished,
    branches,
    count_calls,
    job_states,
    label_new_issue,
    llm_body,
    llm_error,
    llm_raises,
    new_file,
    only_task,
    set_config,
    status_text,
)
from tests.e2e.tracker_helpers import ADD_MUL
from tests.ghsim.simulator import GitHubSimulator
from tests.llm_stub import ScriptedLLM

PULLS = "/repos/{owner}/{repo}/pulls"


class WaitingLLM(ScriptedLLM):
    """ScriptedLLM whose retry waits are recorded instead of slept (4 tries, as in prod)."""

    def __init__(self, *answers: Any) -> None:
        super().__init__(*answers)
        self.waits: list[float] = []

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def factory(self, choice: LLMChoice) -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return make_client(
            "openai",
            base_url="http://llm.test/v1",
            api_key="sk-test-not-real",
            model=choice.model,
            http_client=client,
            retry=RetryPolicy(max_attempts=4, sleep=self._sleep),
        )


@pytest.fixture
def llm() -> WaitingLLM:
    return WaitingLLM(FIX_ADD)  # each test scripts its own answers


@pytest.fixture
def github_sim(github_sim: GitHubSimulator, monkeypatch: pytest.MonkeyPatch) -> GitHubSimulator:
    """The simulator behind a transport that can fail chosen calls; githubkit's own retry
    waits (1 s, 4 s, 9 s) are recorded, not slept."""
    faults = GitHubFaults(github_sim.transport())
    monkeypatch.setattr(github_sim, "transport", lambda: faults)

    async def no_sleep(seconds: float) -> None:
        faults.seen.append(("sleep", "", int(seconds)))

    monkeypatch.setattr(githubkit_core, "anyio", types.SimpleNamespace(sleep=no_sleep))
    return github_sim


def faults(scenario: Scenario) -> GitHubFaults:
    transport = scenario.sim.transport()
    assert isinstance(transport, GitHubFaults)
    return transport


async def assert_one_pr(scenario: Scenario, number: int) -> None:
    [pr] = scenario.sim.pulls(REPO)
    task = await only_task(scenario, number)
    assert task.state == "pr_open" and task.pr_number == pr.number
    assert f"#{pr.number}" in status_text(scenario, number)
    await assert_jobs_finished(scenario)


async def assert_failed(scenario: Scenario, number: int, *phrases: str) -> str:
    task = await only_task(scenario, number)
    assert task.state == "failed"
    status = status_text(scenario, number)
    for phrase in (*phrases, "/issuewright retry"):
        assert phrase in status, phrase
    await assert_jobs_finished(scenario)
    return status


# ---------------------------------------------------------------- the LLM endpoint


async def test_llm_429_waits_as_long_as_retry_after_says(scenario: Scenario) -> None:
    scenario.llm.answers = [llm_error(429, {"retry-after": "7"}, "Rate limit reached"), FIX_ADD]
    number = await label_new_issue(scenario)
    await assert_one_pr(scenario, number)
    assert len(scenario.llm.requests) == 2 and scenario.llm.waits == [7.0]


@pytest.mark.parametrize(
    "fault",
    [
        llm_error(500),
        llm_raises(httpx.ReadTimeout("timed out")),
        # What httpx raises when the connection ends in the middle of the answer's body.
        llm_raises(httpx.RemoteProtocolError("peer closed connection (incomplete read)")),
    ],
    ids=["500", "timeout", "truncated-body"],
)
async def test_transient_llm_failure_is_retried_then_succeeds(
    scenario: Scenario, fault: Any
) -> None:
    scenario.llm.answers = [fault, FIX_ADD]
    number = await label_new_issue(scenario)
    await assert_one_pr(scenario, number)
    assert len(scenario.llm.requests) == 2 and len(scenario.llm.waits) == 1


async def test_llm_timing_out_every_time_fails_the_task_with_a_message(scenario: Scenario) -> None:
    scenario.llm.answers = [llm_raises(httpx.ReadTimeout("timed out"))]
    number = await label_new_issue(scenario)
    await assert_failed(scenario, number, "unavailable", "tried 4 times")
    assert len(scenario.llm.requests) == 4
    assert branches(scenario.sim) == ["main"] and scenario.sim.pulls(REPO) == []


@pytest.mark.parametrize(
    "body",
    [
        '{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "mess',
        "data: {}\n\n",  # an event stream where a JSON completion was asked for
    ],
    ids=["cut-off-json", "not-json"],
)
async def test_malformed_llm_answer_fails_once_without_retrying(
    scenario: Scenario, body: str
) -> None:
    # The same request would get the same broken answer and cost money again.
    scenario.llm.answers = [llm_body(body)]
    number = await label_new_issue(scenario)
    await assert_failed(scenario, number, "could not read")
    assert len(scenario.llm.requests) == 1
    assert branches(scenario.sim) == ["main"]


# ---------------------------------------------------------------- GitHub


@pytest.mark.parametrize("after", [False, True], ids=["refused", "answer-lost"])
async def test_github_5xx_on_pr_creation_is_retried(scenario: Scenario, after: bool) -> None:
    # `after`: GitHub made the PR but the answer was a 502; the retry finds it, not a second.
    faults(scenario).fail("POST", "/repos/octo-org/calc/pulls", 502, times=1, after=after)
    number = await label_new_issue(scenario)
    await assert_one_pr(scenario, number)
    assert count_calls(scenario.sim, "POST", PULLS) == (2 if after else 1)


async def test_github_down_for_pr_creation_keeps_the_branch_and_says_so(
    scenario: Scenario,
) -> None:
    faults(scenario).fail("POST", "/repos/octo-org/calc/pulls", 503, times=4)
    number = await label_new_issue(scenario)
    branch = f"issuewright/{number}-1"
    status = await assert_failed(scenario, number, "could not be opened", branch, "is kept")
    assert "503" in status
    assert scenario.sim.pulls(REPO) == [] and branch in branches(scenario.sim)

    # GitHub is back: a retry opens the one PR from the same branch.
    await scenario.sim.comment(REPO, number, "/issuewright retry", user=MAINTAINER)
    await scenario.settle()
    await assert_one_pr(scenario, number)
    assert branch in branches(scenario.sim)
    assert "is kept" not in status_text(scenario, number)


# ---------------------------------------------------------------- budgets


async def test_task_budget_below_the_estimate_stops_before_any_llm_call(
    scenario: Scenario,
) -> None:
    set_config(
        scenario.sim, "llm_provider: openai\nllm_model: gpt-4o-mini\ntask_budget_usd: 0.001\n"
    )
    number = await label_new_issue(scenario)
    task = await only_task(scenario, number)
    assert task.state == "budget_exceeded"
    assert scenario.llm.requests == []
    status = status_text(scenario, number)
    assert "`task_budget_usd` in `.github/issuewright.yml`" in status
    assert "$0.00 spent so far" in status
    assert scenario.sim.pulls(REPO) == [] and branches(scenario.sim) == ["main"]
    await assert_jobs_finished(scenario)


async def test_budget_stops_the_repair_round_and_shows_what_was_spent(scenario: Scenario) -> None:
    # The first call fits; its long refused answer makes the repair call go over the cap.
    set_config(
        scenario.sim, "llm_provider: openai\nllm_model: gpt-4o-mini\ntask_budget_usd: 0.008\n"
    )
    refused = new_file(".github/workflows/ci.yml", "# padding\n" * 4000)
    scenario.llm.answers = [refused]
    number = await label_new_issue(scenario)
    task = await only_task(scenario, number)
    assert task.state == "budget_exceeded" and task.cost_usd > 0
    assert len(scenario.llm.requests) == 1
    status = status_text(scenario, number)
    assert "Spent so far" in status and "task_budget_usd" in status
    await assert_jobs_finished(scenario)


# ---------------------------------------------------------------- throttles


async def test_max_open_prs_makes_the_second_task_wait_and_say_so(scenario: Scenario) -> None:
    set_config(scenario.sim, "llm_provider: openai\nllm_model: gpt-4o-mini\nmax_open_prs: 1\n")
    scenario.llm.answers = [FIX_ADD, ADD_MUL]
    first = await label_new_issue(scenario)
    second = await label_new_issue(scenario, "Add mul()", "Please add a `mul` function.")
    assert len(scenario.sim.pulls(REPO)) == 1
    waiting = await only_task(scenario, second)
    assert waiting.state == "queued" and len(scenario.llm.requests) == 1
    assert "`max_open_prs` = 1" in status_text(scenario, second)

    # The first PR merges; when the waiting job comes round again, the second PR opens.
    [pr] = scenario.sim.pulls(REPO)
    await scenario.sim.merge_pr(REPO, pr.number, user=MAINTAINER)
    await scenario.settle()
    async with scenario.harness.sessions() as session, session.begin():
        await session.execute(update(Job).where(Job.status == "queued").values(run_after=utcnow()))
    await scenario.settle()
    assert len(scenario.sim.pulls(REPO)) == 2
    assert (await only_task(scenario, second)).state == "pr_open"
    assert "max_open_prs" not in status_text(scenario, second)
    assert (await only_task(scenario, first)).state == "merged"
    await assert_jobs_finished(scenario)


# ---------------------------------------------------------------- jobs that run twice


async def test_a_second_generate_job_for_a_task_with_a_pr_does_nothing(scenario: Scenario) -> None:
    number = await label_new_issue(scenario)
    task = await only_task(scenario, number)
    async with scenario.harness.sessions() as session, session.begin():
        await queue.enqueue(session, "generate", {"task_id": task.id}, task_id=task.id)
    await scenario.settle()
    await assert_one_pr(scenario, number)
    assert len(scenario.status_comments(number)) == 1 and len(scenario.llm.requests) == 1


async def test_worker_dying_after_opening_the_pr_is_resumed_without_a_second(
    scenario: Scenario,
) -> None:
    number = await label_new_issue(scenario)
    task = await only_task(scenario, number)
    # As if the worker died between GitHub's answer and the database write: the PR exists,
    # the task still says generating, and its job is back in the queue (lease expired).
    async with scenario.harness.sessions() as session, session.begin():
        await session.execute(
            update(Task).where(Task.id == task.id).values(state="generating", pr_number=None)
        )
        await queue.enqueue(session, "generate", {"task_id": task.id}, task_id=task.id)
    await scenario.settle()
    await assert_one_pr(scenario, number)
    assert len(scenario.status_comments(number)) == 1 and len(scenario.llm.requests) == 1


class WorkerKilled(BaseException):
    """Stands in for the process dying: nothing in the app catches it."""


async def test_worker_dying_mid_attempt_is_finished_by_the_next_one(scenario: Scenario) -> None:
    original = faults(scenario).handle_async_request

    async def dying(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/pulls"):
            raise WorkerKilled  # pushed, PR not yet made
        return await original(request)

    faults(scenario).handle_async_request = dying  # type: ignore[method-assign]
    with pytest.raises((WorkerKilled, asyncio.CancelledError)):
        await label_new_issue(scenario)
    faults(scenario).handle_async_request = original  # type: ignore[method-assign]
    assert ("generate", "running") in await job_states(scenario)

    # Its lease runs out; the job goes back to the queue and another worker finishes it.
    async with scenario.harness.sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.status == "running")
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
    assert await queue.recover_expired_leases(scenario.harness.sessions) == 1
    await scenario.settle()
    number = (await only_task(scenario)).issue_number
    await assert_one_pr(scenario, number)
    assert len(scenario.status_comments(number)) == 1
