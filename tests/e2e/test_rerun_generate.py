"""A generate job killed after it pushed or opened its PR runs again without a second branch
or PR, and the PR it finds again is dressed like any other (label, review request).

The worker dies right after the call that matters has returned (the push of the branch, the
creation of the PR, its label); after the lease the job runs again. People must see one branch
and one PR per attempt, labelled and with the maintainer asked for a review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.attempt import edit_rounds, runner
from bot.attempt.pull_request import PR_LABEL
from bot.core.attempt_record import reusable_answer, round_separator
from bot.core.record_text import cut_marker
from bot.core.sanitize import REDACTED
from bot.git import remote as git_remote
from bot.github.api import GitHubAPI
from bot.store.models import Attempt, AttemptRecord
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import FIX_ADD, MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import kill_after, run_again, settle_until_killed
from tests.e2e.pipeline_helpers import branches
from tests.e2e.tracker_helpers import pr_of, task, task_row
from tests.ghsim.edits import push_commit
from tests.llm_stub import ScriptedLLM


async def first_generation(scenario: Scenario) -> Any:
    sim = scenario.sim
    issue = await sim.open_issue(REPO, "calc needs work", BUG, user=MAINTAINER)
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    return issue


async def retry_on_a_fresh_branch(scenario: Scenario) -> Any:
    """Someone pushed to the task's branch; a retry starts again on a fresh one."""
    sim = scenario.sim
    await first_generation(scenario)
    await scenario.settle()
    first = await task(scenario)
    await push_commit(sim, REPO, first.branch, {"NOTES.md": "my own change\n"}, MAINTAINER)
    await scenario.settle()
    return await sim.comment(REPO, first.issue_number, "/issuewright retry", user=MAINTAINER)


def fresh_branch(_repo: Any, branch: str, **_kw: Any) -> bool:
    return "-r" in branch


def any_call(*_args: Any, **_kw: Any) -> bool:
    return True


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    return ScriptedLLM(*getattr(request, "param", (FIX_ADD,)))


CASES = [
    (first_generation, GitHubAPI, "create_pull", any_call),
    (first_generation, GitHubAPI, "add_labels", any_call),
    (retry_on_a_fresh_branch, git_remote, "push_branch", fresh_branch),
]


@pytest.mark.parametrize(
    ("setup", "owner", "method", "when"),
    CASES,
    ids=["after-the-pr", "after-its-label", "after-pushing-a-fresh-branch"],
)
async def test_a_generate_job_run_again_after_a_kill_leaves_one_dressed_pr_per_branch(
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    setup: Callable[[Scenario], Any],
    owner: Any,
    method: str,
    when: Callable[..., bool],
) -> None:
    sim = scenario.sim
    switch = kill_after(monkeypatch, owner, method, when)
    await setup(scenario)
    await settle_until_killed(scenario, switch)

    await run_again(scenario)

    done = await task(scenario)
    assert done.state == "pr_open"
    app_branches = [b for b in branches(sim) if b.startswith("issuewright/")]
    pulls = sim.pulls(REPO)
    assert sorted(app_branches) == sorted(p.pull.head for p in pulls)  # no stray branch
    assert len({p.pull.head for p in pulls}) == len(pulls)  # one PR per branch
    pr = pr_of(scenario, done.branch)
    assert done.pr_number == pr.number
    assert PR_LABEL in [label.name for label in pr.labels]
    assert MAINTAINER in [user.login for user in pr.pull.requested_reviewers]


NO_EDITS = "I would rather not change anything."


@pytest.mark.parametrize(
    ("llm", "state", "shown"),
    [((FIX_ADD,), "pr_open", "PR open"), ((NO_EDITS, NO_EDITS), "failed", "failed")],
    indirect=["llm"],
    ids=["opened-its-pr", "failed"],
)
async def test_a_generate_job_that_died_before_showing_its_outcome_shows_it_when_run_again(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch, state: str, shown: str
) -> None:
    # The attempt's outcome is stored; the worker dies before the status comment says so.
    switch = kill_after(monkeypatch, runner, "task_note")
    issue = await first_generation(scenario)
    await settle_until_killed(scenario, switch)
    assert (await task(scenario)).state == state
    assert "generating" in task_row(scenario, issue.number, 1)

    await run_again(scenario)

    row = task_row(scenario, issue.number, 1)
    assert shown in row and "generating" not in row


@pytest.mark.parametrize(
    ("owner", "method"),
    [(git_remote, "push_branch"), (edit_rounds, "apply_answer")],
    ids=["after-its-push", "after-the-answer"],
)
async def test_a_generate_job_run_again_uses_the_answer_it_already_paid_for(
    scenario: Scenario, llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch, owner: Any, method: str
) -> None:
    switch = kill_after(monkeypatch, owner, method)
    await first_generation(scenario)
    await settle_until_killed(scenario, switch)
    assert len(llm.requests) == 1

    await run_again(scenario)

    assert len(llm.requests) == 1  # the model was not asked (nor paid) a second time
    done = await task(scenario)
    assert done.state == "pr_open" and len(scenario.sim.pulls(REPO)) == 1
    async with scenario.harness.sessions() as session:
        attempts = list((await session.execute(select(Attempt).order_by(Attempt.id))).scalars())
        second = await session.get(AttemptRecord, attempts[-1].id)
    first, last = attempts
    # The dead run's attempt is closed, not left running for ever; the task paid once.
    assert (first.outcome, last.outcome) == ("interrupted", "success")
    assert first.cost_usd > 0 and last.cost_usd == 0 and done.cost_usd == first.cost_usd
    assert second is not None and second.answer == FIX_ADD


def test_only_an_answer_that_can_apply_as_the_model_wrote_it_is_reused() -> None:
    assert reusable_answer(FIX_ADD, None) == FIX_ADD  # died before it was checked
    refused = {"applied": False, "rounds": [{"round": 1, "applied": False}]}
    assert reusable_answer(FIX_ADD, refused) is None
    assert reusable_answer(FIX_ADD + cut_marker(256 * 1024), None) is None
    assert reusable_answer(f"token {REDACTED}\n" + FIX_ADD, None) is None
    two = FIX_ADD + round_separator(2) + "the repair"
    applied = {"applied": True, "rounds": [{"applied": False}, {"applied": True}]}
    assert reusable_answer(two, applied) == "the repair"
