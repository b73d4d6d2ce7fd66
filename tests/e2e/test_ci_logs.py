"""A CI fix is given the failing part of the GitHub Actions job log, when the app may read
it: the lines around the failure, without the setup before it, colours or timestamps."""

from __future__ import annotations

import pytest

from tests.core.test_ci_logs import ACTIONS_LOG
from tests.e2e.conftest import BUG_REPORT as BUG
from tests.e2e.conftest import REPO, Scenario
from tests.e2e.tracker_helpers import ADD_TEST, FIX_ADD, pr_of, start
from tests.llm_stub import ScriptedLLM


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(FIX_ADD, ADD_TEST)


async def test_fix_prompt_holds_the_failing_part_of_the_job_log(scenario: Scenario) -> None:
    issue = await start(scenario, BUG)
    head = pr_of(scenario, f"issuewright/{issue.number}-1").pull.head_sha
    scenario.sim.deliver, deliver = None, scenario.sim.deliver  # set the log before delivery
    await scenario.sim.report_checks(REPO, head, "failure", runs={"tests": "failure"})
    [run] = [r for r in scenario.sim.check_runs(REPO, head) if r.name == "tests"]
    scenario.sim.job_logs[run.id] = ACTIONS_LOG
    for delivery in scenario.sim.webhooks("check_run") + scenario.sim.webhooks("check_suite"):
        if delivery.payload.get("action") == "completed":
            await deliver(delivery.event, delivery.payload)
    scenario.sim.deliver = deliver
    await scenario.settle()

    fix_prompt = scenario.llm.prompt_text(1)
    assert "E   AssertionError: assert -1 == 5" in fix_prompt
    assert "'actions/setup-0'" not in fix_prompt  # the long setup before it is left out
    assert "earlier log lines left out" in fix_prompt
    assert "\x1b[" not in fix_prompt and "2026-11-22T" not in fix_prompt
