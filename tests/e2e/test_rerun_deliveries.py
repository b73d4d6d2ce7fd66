"""A delivery whose job did everything and died before its completion was recorded runs again
in full after its lease; what it asked for must not happen twice.

A review asking for changes queues one review attempt: run again, the delivery finds the
attempt its first run asked for (by its cause) instead of asking for another, which would
make the model answer the same review twice and push a second commit.
"""

from __future__ import annotations

import pytest

from bot.store.models import Delivery
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import kill_before_completion, run_again, settle_until_killed
from tests.e2e.tracker_helpers import BETTER_DOCSTRING, FIX_ADD, pr_of, start, task
from tests.ghsim.edits import submit_review
from tests.llm_stub import ScriptedLLM


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(FIX_ADD, BETTER_DOCSTRING)


async def test_a_review_delivery_run_again_after_its_review_attempt_asks_for_none_more(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = scenario.sim
    issue = await start(scenario, BUG)
    pr = pr_of(scenario, f"issuewright/{issue.number}-1")
    reviews: set[str] = set()
    switch = kill_before_completion(
        monkeypatch, lambda job: job.kind == "delivery" and job.delivery_id in reviews
    )
    await submit_review(sim, REPO, pr.number, MAINTAINER, "CHANGES_REQUESTED", "say a + b")
    await sim.flush()
    async with scenario.harness.sessions() as session:
        reviews.update(
            d.delivery_id
            for d in (await session.execute(Delivery.__table__.select())).all()
            if d.event == "pull_request_review"
        )
    await settle_until_killed(scenario, switch)
    await scenario.settle()  # another worker runs the review attempt while the lease runs
    assert len(scenario.llm.requests) == 2

    await run_again(scenario)

    assert len(scenario.llm.requests) == 2  # the generation, and one review attempt
    head = sim.branch_sha(REPO, pr.pull.head)
    assert "(the sum, not the difference)" in sim.read_file(REPO, head, "calc/ops.py")
    commits = sim.repo(REPO).git.git("rev-list", f"{pr.pull.head_sha}..{head}").split()
    assert len(commits) == 1
    assert (await task(scenario)).state == "pr_open"
