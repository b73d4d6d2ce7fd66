"""Progress where people look, and one failure with one action in every surface, through the
real app and the GitHub simulator: a streaming answer edits the task's row of the status
comment at the allowed rate (time driven by an injected clock: no sleeps), the check run is
neutral until CI reports, and a failed task says one reason and one action on the status
comment, its PR and its check run alike."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.policy import LLMChoice
from bot.llm.base import LLMRequest, LLMResponse
from bot.report.pr_notice import PR_NOTICE_MARKER
from bot.report.progress import progress_edits_done
from bot.store.models import Attempt
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import FIX_ADD, MAINTAINER, REPO, Scenario, scenario_with
from tests.e2e.tracker_helpers import (
    ADD_TEST,
    fail_checks,
    mirror_run,
    notice_line,
    pr_of,
    start,
    status_text,
    task,
    task_row,
)
from tests.ghsim.simulator import GitHubSimulator
from tests.llm_stub import ScriptedLLM

NO_EDITS = "The tests look fine to me."
PUBLIC_URL = "https://issuewright.example.org"
COMMENT_PATH = "/repos/{owner}/{repo}/issues/comments/{comment_id}"


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class StreamingLLM(ScriptedLLM):
    """The scripted model, streaming: before its answer, the client hears `chunks` token
    counts, the injected clock moving `step` seconds before each, as a streaming client calls
    `request.progress`; after each chunk it lets the progress edits it caused finish."""

    def __init__(self, *answers: str, chunks: int = 0, step: float = 5.0) -> None:
        super().__init__(*answers)
        self.clock = Clock()
        self.chunks, self.step = chunks, step
        self.ctx: Any = None
        self.stored: list[int] = []  # attempts.streamed_tokens after each chunk

    async def note_stored(self) -> None:
        async with self.ctx.sessions() as session:
            rows = (await session.execute(select(Attempt.streamed_tokens))).scalars().all()
        self.stored.append(max(rows, default=0))

    def factory(self, choice: LLMChoice) -> Any:
        return _StreamingClient(super().factory(choice), self)


class _StreamingClient:
    def __init__(self, inner: Any, stream: StreamingLLM) -> None:
        self.inner, self.stream = inner, stream
        self.provider, self.model = inner.provider, inner.model

    async def complete(self, request: LLMRequest) -> LLMResponse:
        for n in range(1, self.stream.chunks + 1):
            self.stream.clock.now += self.stream.step
            if request.progress is not None:
                request.progress(n * 50)
            await progress_edits_done(self.stream.ctx)
            await self.stream.note_stored()
        return await self.inner.complete(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> StreamingLLM:
    answers, chunks = getattr(request, "param", ((FIX_ADD,), 0))
    return StreamingLLM(*answers, chunks=chunks)


@pytest.fixture
async def scenario(
    tmp_path: Path, sqlite_url: str, github_sim: GitHubSimulator, llm: StreamingLLM
) -> AsyncIterator[Scenario]:
    async with scenario_with(tmp_path, sqlite_url, github_sim, llm, public_url=PUBLIC_URL) as s:
        s.harness.ctx.clock = llm.clock
        llm.ctx = s.harness.ctx
        yield s


def streaming(answers: tuple[str, ...], chunks: int) -> Any:
    return pytest.mark.parametrize("llm", [(answers, chunks)], indirect=True, ids=["stream"])


def status_edits(scenario: Scenario) -> list[str]:
    """Every body the status comment was edited to, in order."""
    return [
        r.body["body"]
        for r in scenario.sim.requests
        if r.method == "PATCH"
        and r.template == COMMENT_PATH
        and "issuewright:status" in r.body["body"]
    ]


@streaming((FIX_ADD,), chunks=20)  # a chunk every 5 s: 100 s of answer
async def test_a_streaming_answer_edits_the_row_every_twenty_seconds(scenario: Scenario) -> None:
    issue = await start(scenario, BUG)

    progress = [
        re.search(r"generating — ([\d,]+) tokens so far, (.+?) \|", body)
        for body in status_edits(scenario)
    ]
    shown = [(m.group(1), m.group(2)) for m in progress if m]
    # At most one edit per 20 s of the injected clock, each with the tokens of that moment.
    assert shown == [
        ("200", "20 s"),
        ("400", "40 s"),
        ("600", "1 m 0 s"),
        ("800", "1 m 20 s"),
        ("1,000", "1 m 40 s"),
    ]
    # Then the attempt's own edit: the PR is open and the progress line is gone.
    assert "PR open" in task_row(scenario, issue.number, 1)
    assert "tokens so far" not in status_text(scenario, issue.number)
    async with scenario.harness.sessions() as session:
        [attempt] = (await session.execute(select(Attempt))).scalars().all()
    assert attempt.streamed_tokens == 1000 and attempt.progress_at is not None  # the dashboard's
    # Stored as often as the row is edited (every 4th chunk here), not on every chunk.
    stored = scenario.llm.stored
    assert stored == [0] * 3 + [200] * 4 + [400] * 4 + [600] * 4 + [800] * 4 + [1000]

    # The app's check run: neutral while no CI has reported, then it follows CI.
    pr = pr_of(scenario, f"issuewright/{issue.number}-1")
    before = mirror_run(scenario, pr.pull.head_sha)
    assert (before.status, before.conclusion) == ("completed", "neutral")
    await scenario.sim.report_checks(REPO, pr.pull.head_sha, "success", runs={"tests": "success"})
    await scenario.settle()
    after = mirror_run(scenario, pr.pull.head_sha)
    assert (after.status, after.conclusion) == ("completed", "success")


@streaming((FIX_ADD,), chunks=3)  # 15 s of answer: shorter than one interval
async def test_a_short_answer_makes_no_progress_edit(scenario: Scenario) -> None:
    await start(scenario, BUG)
    assert not any("tokens so far" in body for body in status_edits(scenario))


ONE_FIX = "llm_provider: openai\nllm_model: gpt-4o-mini\nci_fix_attempts: 1\n"


@streaming((FIX_ADD, NO_EDITS, NO_EDITS), chunks=0)
async def test_a_ci_failure_says_one_message_with_one_action_everywhere(
    scenario: Scenario,
) -> None:
    """The reported case: the CI-fix attempt's answer is refused (a `retry` note), its
    attempts are used up (a `fix-ci` error), and a retry box stood beside both."""
    sim = scenario.sim
    await sim.push_commit(REPO, "main", {".github/issuewright.yml": ONE_FIX}, author=MAINTAINER)
    issue = await start(scenario, BUG)
    pr = pr_of(scenario, f"issuewright/{issue.number}-1")
    await fail_checks(scenario, pr.pull.head_sha)
    await scenario.settle()
    assert (await task(scenario)).state == "failed"

    message = (
        "checks failed and the 1 CI-fix attempt(s) are used up. "
        "Comment `/issuewright fix-ci task 1` to try once more."
    )
    status = status_text(scenario, issue.number)
    assert status.count("CI-fix attempt(s) are used up") == 1
    assert message in notice_line(scenario, issue.number, 1)
    assert "retry task 1" not in status and "/issuewright retry`" not in status
    assert "no edit" not in status.lower()  # the refused fix's note, with its `retry`, is gone

    [on_pr] = [c.body for c in sim.comments(REPO, pr.number) if PR_NOTICE_MARKER in c.body]
    assert message in on_pr and "retry" not in on_pr

    run = mirror_run(scenario, pr.pull.head_sha)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert message in run.output["summary"] and "retry" not in run.output["summary"]

    # `fix-ci` as told: the fix lands, and the PR's comment says the failure is over.
    scenario.llm.answers.append(ADD_TEST)
    await sim.comment(REPO, issue.number, "/issuewright fix-ci task 1", user=MAINTAINER)
    await scenario.settle()
    assert (await task(scenario)).state == "pr_open"
    assert "What to do next" not in status_text(scenario, issue.number)
    [on_pr] = [c.body for c in sim.comments(REPO, pr.number) if PR_NOTICE_MARKER in c.body]
    assert "failure shown here before is over" in on_pr


@streaming((NO_EDITS, NO_EDITS), chunks=0)
async def test_a_refused_answer_offers_retry_with_what_was_refused_and_its_page(
    scenario: Scenario,
) -> None:
    issue = await start(scenario, BUG)
    assert (await task(scenario)).state == "failed"
    async with scenario.harness.sessions() as session:
        [attempt] = (await session.execute(select(Attempt))).scalars().all()

    status = status_text(scenario, issue.number)
    line = notice_line(scenario, issue.number, 1)
    assert line.startswith("- [ ] retry task 1 — **Task 1, answer refused**")
    assert "the model's answer was refused" in line
    assert f"({PUBLIC_URL}/dashboard/attempts/{attempt.id})" in line
    assert status.count("the model's answer was refused") == 1  # no second copy in the notes
    assert status.count("retry task 1") == 2  # the box, and the same command beside it
    assert "fix-ci task" not in status
    assert task_row(scenario, issue.number, 1).endswith("| answer refused, see below |")
