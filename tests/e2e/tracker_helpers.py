"""Shared pieces of the tracker and command scenarios: scripted model answers that apply to
the `calc` repository, and short ways to start work and read what people would see."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.models import CommandRun, Delivery, Task
from tests.e2e.conftest import FIX_ADD, MAINTAINER, REPO, Scenario
from tests.ghsim.edits import set_check_output
from tests.ghsim.state import CheckRun, Issue

# Two tasks; the second waits for the first (explicit "after 1").
TWO_TASKS = """Make `calc` do a little more.

- [ ] Fix `add` in `calc/ops.py`: it must return the sum
- [ ] Add a `mul` function to `calc/ops.py` (after 1)
"""

ADD_MUL = """`mul` goes beside `sub`.

calc/ops.py
```python
<<<<<<< SEARCH
def sub(a: int, b: int) -> int:
    \"\"\"Return a minus b.\"\"\"
    return a - b
=======
def sub(a: int, b: int) -> int:
    \"\"\"Return a minus b.\"\"\"
    return a - b


def mul(a: int, b: int) -> int:
    \"\"\"Return a times b.\"\"\"
    return a * b
>>>>>>> REPLACE
```

SUMMARY: adds `mul`.
"""

# Applies on top of FIX_ADD (the task's branch), never on `main`.
ADD_TEST = """The failing check wants a test of `add`.

tests/test_ops.py
```python
<<<<<<< SEARCH
def test_sub():
    assert sub(3, 1) == 2
=======
def test_sub():
    assert sub(3, 1) == 2


def test_add():
    assert add(2, 3) == 5
>>>>>>> REPLACE
```

SUMMARY: adds a test of `add`.
"""

# Review feedback on the FIX_ADD branch: the reviewer wants a clearer docstring.
BETTER_DOCSTRING = """As the reviewer asked.

calc/ops.py
```python
<<<<<<< SEARCH
    \"\"\"Return the sum of a and b.\"\"\"
    return a + b
=======
    \"\"\"Return a + b (the sum, not the difference).\"\"\"
    return a + b
>>>>>>> REPLACE
```

SUMMARY: clearer docstring for `add`.
"""

__all__ = ["ADD_MUL", "ADD_TEST", "BETTER_DOCSTRING", "FIX_ADD", "TWO_TASKS"]

FAILING_OUTPUT = "FAILED tests/test_ops.py::test_add - NameError: add is not tested"


async def start(scenario: Scenario, body: str, title: str = "calc needs work") -> Issue:
    """A maintainer files and labels an issue; the app plans it and runs what can start."""
    issue = await scenario.sim.open_issue(REPO, title, body, user=MAINTAINER)
    await scenario.sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()
    return issue


async def tasks(scenario: Scenario) -> list[Task]:
    async with scenario.harness.sessions() as session:
        return list((await session.execute(select(Task).order_by(Task.ordinal))).scalars())


async def task(scenario: Scenario, ordinal: int = 1) -> Task:
    return next(t for t in await tasks(scenario) if t.ordinal == ordinal)


async def stored_id(scenario: Scenario, sent: Any) -> str:
    """The delivery id under which a webhook the simulator sent was stored (found by its
    body, as the receiver deduplicates it)."""
    digest = hashlib.sha256(json.dumps(sent.payload).encode()).hexdigest()
    async with scenario.harness.sessions() as session:
        query = select(Delivery.delivery_id).where(Delivery.body_sha256 == digest)
        return str((await session.execute(query)).scalar_one())


async def command_runs(scenario: Scenario) -> list[CommandRun]:
    async with scenario.harness.sessions() as session:
        return list((await session.execute(select(CommandRun))).scalars())


def status_text(scenario: Scenario, issue_number: int) -> str:
    [comment] = scenario.status_comments(issue_number)
    return comment.body


def task_row(scenario: Scenario, issue_number: int, ordinal: int) -> str:
    """The status table's row for one task."""
    prefix = f"| {ordinal} |"
    rows = [line for line in status_text(scenario, issue_number).splitlines()]
    return next(line for line in rows if line.startswith(prefix))


def notice_line(scenario: Scenario, issue_number: int, ordinal: int) -> str:
    """The status comment's one line about a failed task (under "What to do next")."""
    lines = status_text(scenario, issue_number).splitlines()
    found = [line for line in lines if f"**Task {ordinal}, " in line]
    assert len(found) == 1, found
    return found[0]


async def fail_checks(scenario: Scenario, sha: str) -> None:
    """CI fails on `sha` with a summary and an annotation, as a test job reports them."""
    await scenario.sim.report_checks(REPO, sha, "failure", runs={"tests": "failure"})
    [run] = [r for r in scenario.sim.check_runs(REPO, sha) if r.name == "tests"]
    annotation = {
        "path": "tests/test_ops.py",
        "start_line": 4,
        "end_line": 4,
        "annotation_level": "failure",
        "title": "test_add",
        "message": "no test covers add()",
    }
    set_check_output(run, FAILING_OUTPUT, [annotation])


def pr_of(scenario: Scenario, branch: str) -> Issue:
    [pr] = [p for p in scenario.sim.pulls(REPO) if p.pull and p.pull.head == branch]
    return pr


def mirror_run(scenario: Scenario, sha: str) -> CheckRun:
    """The app's own `issuewright` check run on a commit."""
    app_id = scenario.sim.app.id
    [run] = [r for r in scenario.sim.check_runs(REPO, sha) if r.app_id == app_id]
    return run


def replies(scenario: Scenario, issue_number: int) -> list[str]:
    """Comments the app wrote, other than its status comment."""
    bot = scenario.sim.bot
    return [
        c.body
        for c in scenario.sim.comments(REPO, issue_number)
        if c.user is bot and "issuewright:status" not in c.body
    ]


def prompt_texts(scenario: Scenario) -> list[str]:
    return [scenario.llm.prompt_text(i) for i in range(len(scenario.llm.requests))]


def llm_script(*answers: Any) -> Any:
    """Mark a test to run with its own scripted model answers (the module's `llm` fixture
    builds the ScriptedLLM from them, fresh for each test)."""
    return pytest.mark.parametrize("llm", [answers], indirect=True, ids=["scripted"])
