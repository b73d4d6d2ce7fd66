"""What the repository itself holds shapes the plan: a broken prompt override, a broken
`.github/issuewright.yml`, a base branch that is not there. Each is said on the issue, and
work goes on with defaults where it can."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CALC_FILES, MAINTAINER, Scenario
from tests.e2e.planning_helpers import (
    BUG_REPORT,
    PLAN_LABEL,
    TASK_LIST,
    other_repo,
    status_of,
)

# ---------------------------------------------------------------- repository files

BROKEN_OVERRIDE = """---
id: bug_fix
version: 7
task_type: bug_fix
params:
  repo: str
---
Fix {{ repo }} {% if %}
"""


async def test_broken_prompt_override_falls_back_and_says_so(scenario: Scenario) -> None:
    sim = scenario.sim
    files = {**CALC_FILES, ".github/issuewright/prompts/bug_fix.md.j2": BROKEN_OVERRIDE}
    repo = other_repo(sim, files)
    issue = await sim.open_issue(repo, "calc.add returns the wrong result", BUG_REPORT)
    await sim.label_issue(repo, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()

    body = status_of(sim, repo, issue.number).body
    assert ".github/issuewright/prompts/bug_fix.md.j2" in body and "was not used" in body
    assert "built-in `bug_fix` v1" in body
    assert len(scenario.llm.requests) == 1
    assert "# Fix a bug: issue #1 in octo-org/other" in scenario.llm.prompt_text(0)
    assert len(sim.pulls(repo)) == 1  # the work went on with the built-in template


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("llm_provider: openai\nllm_model: gpt-4o-mini\ntrigger_lable: go\n", "trigger_lable"),
        ("llm_provider: openai\nllm_model: gpt-4o-mini\nmax_tasks_per_issue: lots\n", "lots"),
        ("llm_provider: openai\nllm_model: [gpt-4o-mini\n", "not valid YAML"),
    ],
    ids=["unknown-key", "wrong-type", "invalid-yaml"],
)
async def test_config_problems_are_listed_and_defaults_apply(
    scenario: Scenario, config: str, problem: str
) -> None:
    sim = scenario.sim
    repo = other_repo(sim, {**CALC_FILES, ".github/issuewright.yml": config})
    issue = await sim.open_issue(repo, "Add mul and div", TASK_LIST)
    await sim.label_issue(repo, issue.number, PLAN_LABEL, user=MAINTAINER)  # default plan label
    await scenario.settle()

    body = status_of(sim, repo, issue.number).body
    notes = body.split("**Notes**", 1)[1]
    [line] = [n for n in notes.splitlines() if problem in n]  # one line per problem
    assert ".github/issuewright.yml" in line
    assert "Add `mul(a, b)`" in body  # the defaults planned the issue
    # Broken YAML loses the LLM setting too: the plan-only reason points at the file.
    assert ("has problems (see Notes)" in body) == (problem == "not valid YAML")
    assert scenario.llm.requests == []


async def test_a_base_branch_that_does_not_exist_is_reported_not_retried(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    config = "base_branch: develp\nllm_provider: openai\nllm_model: gpt-4o-mini\n"
    repo = other_repo(sim, {**CALC_FILES, ".github/issuewright.yml": config})
    issue = await sim.open_issue(repo, "calc.add returns the wrong result", BUG_REPORT)
    await sim.label_issue(repo, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()

    body = status_of(sim, repo, issue.number).body
    assert "`develp` does not exist" in body and "`base_branch`" in body
    assert "Plan only" in body and "calc.add returns the wrong result" in body
    assert scenario.llm.requests == [] and sim.pulls(repo) == []
