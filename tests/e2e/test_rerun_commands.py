"""A command whose job is killed after it acted runs again without acting or answering twice.

The first run did what was asked (a retry queued, a task cancelled, a CI fix queued) and
reacted; the worker dies right after that GitHub call. The re-run finds what the command did
by its cause (the comment) instead of refusing ("nothing to retry": the task has moved on) or
doing it again: people see 👀 🚀, no reply, and one attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.github.api import GitHubAPI
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import kill_after, run_again, settle_until_killed
from tests.e2e.tracker_helpers import (
    ADD_TEST,
    FIX_ADD,
    command_runs,
    fail_checks,
    pr_of,
    replies,
    start,
    task,
)
from tests.llm_stub import ScriptedLLM

NO_EDITS = "I would rather not change anything."
NO_FIXES = "llm_provider: openai\nllm_model: gpt-4o-mini\nci_fix_attempts: 0\n"


async def failed_generation(scenario: Scenario) -> int:
    """The only task failed (the model answered twice without edits)."""
    issue = await start(scenario, BUG)
    assert (await task(scenario)).state == "failed"
    return issue.number


async def open_pr(scenario: Scenario) -> int:
    issue = await start(scenario, BUG)
    assert (await task(scenario)).state == "pr_open"
    return issue.number


async def checks_failed_no_fixes_left(scenario: Scenario) -> int:
    """The PR's checks failed and the repository allows no automatic CI fix."""
    sim = scenario.sim
    await sim.push_commit(REPO, "main", {".github/issuewright.yml": NO_FIXES}, author=MAINTAINER)
    issue = await start(scenario, BUG)
    await fail_checks(scenario, pr_of(scenario, f"issuewright/{issue.number}-1").pull.head_sha)
    await scenario.settle()
    assert (await task(scenario)).state == "failed"
    return issue.number


def rocket(*args: Any, **kw: Any) -> bool:
    return "rocket" in args


def any_call(*args: Any, **kw: Any) -> bool:
    return True


Setup = Callable[[Scenario], Awaitable[int]]
CASES = [
    # command, answers, setup, call killed after, state then, LLM requests in all
    ("retry", (NO_EDITS, NO_EDITS, FIX_ADD), failed_generation, "react_to_comment", rocket, 3),
    ("retry", (NO_EDITS, NO_EDITS, FIX_ADD), failed_generation, "edit_comment", any_call, 3),
    ("cancel", (FIX_ADD,), open_pr, "react_to_comment", rocket, 1),
    ("fix-ci", (FIX_ADD, ADD_TEST), checks_failed_no_fixes_left, "react_to_comment", rocket, 2),
]


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    return ScriptedLLM(*request.param)


@pytest.mark.parametrize(
    ("command", "llm", "setup", "method", "when", "requests"),
    CASES,
    indirect=["llm"],
    ids=["retry-after-rocket", "retry-after-status", "cancel-after-rocket", "fix-ci-after-rocket"],
)
async def test_a_command_run_again_after_a_kill_acts_and_answers_once(
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    setup: Setup,
    method: str,
    when: Callable[..., bool],
    requests: int,
) -> None:
    sim = scenario.sim
    number = await setup(scenario)
    switch = kill_after(monkeypatch, GitHubAPI, method, when)
    asked = await sim.comment(REPO, number, f"/issuewright {command}", user=MAINTAINER)
    await settle_until_killed(scenario, switch)

    await run_again(scenario)

    assert replies(scenario, number) == []  # no "nothing to retry / cancel / fix" refusal
    assert sim.reactions(REPO, number, asked.id) == ["eyes", "rocket"]
    assert len(scenario.llm.requests) == requests  # one attempt, not two
    assert len(sim.pulls(REPO)) <= 1
    ran = [c for c in await command_runs(scenario) if c.comment_id == asked.id]
    assert [c.outcome for c in ran] == ["done"]
