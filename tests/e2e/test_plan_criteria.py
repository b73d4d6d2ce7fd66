"""Issue 14 through the real app: the plan preview says why the issue was split, and the
issue's acceptance criteria reach every task's prompt and PR body as a checklist."""

from __future__ import annotations

from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.planning_helpers import PLAN_LABEL, status_of, tasks_in_db

MUL_AND_DIV = """We want multiplication and division next to `add` and `sub`.

## Tasks
- [ ] Add `mul(a, b)` to `calc/ops.py`
- [ ] Add tests for `mul` in `tests/test_ops.py`
- [ ] Add `div(a, b)` to `calc/ops.py`
- [x] Export `sub` from `calc/__init__.py`

## Acceptance criteria
- [ ] `mul(2, 3)` returns `6`
- [ ] Existing functions keep their signatures
"""

ADD_BUG = """`calc.add` returns the difference instead of the sum.

### Steps to reproduce
1. `from calc import add`
2. `add(2, 3)`

### Acceptance criteria
- `add(2, 3)` returns `5`
- `add(-1, 1)` returns `0`
"""


async def test_plan_preview_says_why_and_keeps_criteria_out_of_the_tasks(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    issue = await sim.open_issue(REPO, "Add mul and div", MUL_AND_DIV, user="reporter")
    await sim.label_issue(REPO, issue.number, PLAN_LABEL, user=MAINTAINER)
    await scenario.settle()

    status = status_of(sim, REPO, issue.number).body
    assert "**Why this plan**" in status
    assert "joins task 1: it only adds the tests of that change" in status
    assert "Criteria, not tasks: 2 items" in status and "Skipped: 1 item" in status
    tasks = await tasks_in_db(scenario)
    assert [t.title for t in tasks] == [
        "Add `mul(a, b)` to `calc/ops.py`",
        "Add `div(a, b)` to `calc/ops.py`",
    ]
    assert "tests/test_ops.py" in tasks[0].body
    for task in tasks:
        assert task.criteria == [
            "`mul(2, 3)` returns `6`",
            "Existing functions keep their signatures",
        ]
    assert scenario.llm.requests == []


async def test_criteria_reach_the_prompt_and_the_pr_body_as_a_checklist(
    scenario: Scenario,
) -> None:
    sim = scenario.sim
    issue = await sim.open_issue(REPO, "add() subtracts", ADD_BUG, user="reporter")
    await sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()

    prompt = scenario.llm.prompt_text(0)
    criteria = prompt.split("## Acceptance criteria", 1)[1]
    assert "- [ ] `add(2, 3)` returns `5`\n- [ ] `add(-1, 1)` returns `0`" in criteria
    [pr] = sim.pulls(REPO)
    assert "### Acceptance criteria" in pr.body
    assert "- [ ] `add(2, 3)` returns `5`\n- [ ] `add(-1, 1)` returns `0`" in pr.body
