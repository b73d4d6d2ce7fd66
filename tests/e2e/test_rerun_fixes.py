"""A CI-fix or review job killed during its attempt runs again and finishes it once.

The worker dies right after a call of the attempt's push: after the push itself (the fix is on
the branch, the task still says "fixing"), or after reading the branch just before pushing
(the commit never reached GitHub). Run again after the lease, the job takes over what reached
GitHub instead of asking the model again, or makes its attempt again from what the branch
holds; the task never stays "fixing".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.git import remote as git_remote
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import kill_after, run_again, settle_until_killed
from tests.e2e.tracker_helpers import (
    ADD_TEST,
    BETTER_DOCSTRING,
    FIX_ADD,
    fail_checks,
    mirror_run,
    pr_of,
    start,
    status_text,
    task,
    task_row,
)
from tests.ghsim.edits import submit_review
from tests.llm_stub import ScriptedLLM


async def checks_fail(scenario: Scenario, pr: Any) -> None:
    await fail_checks(scenario, pr.pull.head_sha)


async def changes_requested(scenario: Scenario, pr: Any) -> None:
    await submit_review(scenario.sim, REPO, pr.number, MAINTAINER, "CHANGES_REQUESTED", "say a + b")


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    return ScriptedLLM(*request.param)


CASES = [
    # answers, what starts the attempt, call killed after, LLM requests in all, new text
    ((FIX_ADD, ADD_TEST), checks_fail, "push_branch", 2, ("tests/test_ops.py", "def test_add")),
    (
        (FIX_ADD, ADD_TEST),
        checks_fail,
        "remote_branch_sha",
        2,  # killed before its push: the answer it got is used again, not asked for twice
        ("tests/test_ops.py", "def test_add"),
    ),
    (
        (FIX_ADD, BETTER_DOCSTRING),
        changes_requested,
        "push_branch",
        2,
        ("calc/ops.py", "(the sum, not the difference)"),
    ),
]


@pytest.mark.parametrize(
    ("llm", "trigger", "method", "requests", "changed"),
    CASES,
    indirect=["llm"],
    ids=["ci-fix-after-its-push", "ci-fix-before-its-push", "review-after-its-push"],
)
async def test_a_fix_job_run_again_after_a_kill_finishes_its_attempt_once(
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    trigger: Callable[[Scenario, Any], Any],
    method: str,
    requests: int,
    changed: tuple[str, str],
) -> None:
    sim = scenario.sim
    issue = await start(scenario, BUG)
    pr = pr_of(scenario, f"issuewright/{issue.number}-1")
    switch = kill_after(monkeypatch, git_remote, method)
    await trigger(scenario, pr)
    await settle_until_killed(scenario, switch)
    assert (await task(scenario)).state == "fixing"

    await run_again(scenario)

    done = await task(scenario)
    assert done.state == "pr_open"
    assert "fixing" not in task_row(scenario, issue.number, 1)
    assert "not applied" not in status_text(scenario, issue.number)
    assert len(scenario.llm.requests) == requests  # the model is not asked again once pushed
    head = sim.branch_sha(REPO, pr.pull.head)
    assert head == done.head_sha != pr.pull.head_sha
    path, text = changed
    assert text in sim.read_file(REPO, head, path)
    assert "return a + b" in sim.read_file(REPO, head, "calc/ops.py")
    mirror = mirror_run(scenario, head)  # on the new head, once: neutral until CI reports
    assert (mirror.status, mirror.conclusion) == ("completed", "neutral")
    assert len(sim.pulls(REPO)) == 1
