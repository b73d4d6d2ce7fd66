"""Shared pieces of the planning scenarios: issue texts shaped like real ones, a second
repository, a label removal (the simulator has no action for it), a scenario with settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.store.models import Task
from tests.e2e.conftest import CALC_FILES, MAINTAINER, Scenario
from tests.ghsim.simulator import GitHubSimulator

OTHER = "octo-org/other"
PLAN_LABEL = "issuewright:plan"

# A bug report as people file them: prose, numbered steps, expected/actual, environment.
BUG_REPORT = """`calc.add` returns the wrong result: it gives the difference instead of the sum.

### Steps to reproduce
1. `from calc import add`
2. `add(2, 3)`

### Expected behaviour
`5`

### Actual behaviour
`-1`

### Environment
- calc 0.3.1
- Python 3.11
"""

# A feature request with a task list: nested items belong to their parent, checked are done.
TASK_LIST = """We want multiplication and division next to `add` and `sub`.

## Tasks
- [ ] Add `mul(a, b)` to `calc/ops.py`
  - [ ] with a docstring like the others
- [ ] Add `div(a, b)` to `calc/ops.py`
- [x] Export `sub` from `calc/__init__.py`

### Checklist
- [x] I have searched the existing issues
"""


def bot_comments(sim: GitHubSimulator, repo: str, number: int) -> list[Any]:
    return [c for c in sim.comments(repo, number) if c.user.login == sim.bot.login]


def status_of(sim: GitHubSimulator, repo: str, number: int) -> Any:
    [status] = [c for c in bot_comments(sim, repo, number) if "issuewright:status" in c.body]
    return status


async def unlabel(sim: GitHubSimulator, repo: str, number: int, name: str, user: str) -> None:
    """A person removes a label."""
    await sim.unlabel_issue(repo, number, name, user)


def other_repo(sim: GitHubSimulator, files: dict[str, str]) -> str:
    sim.create_repo("octo-org", "other", files)
    sim.set_permission(OTHER, MAINTAINER, "admin")
    return OTHER


def without_config(extra: dict[str, str] | None = None) -> dict[str, str]:
    files = {k: v for k, v in CALC_FILES.items() if k != ".github/issuewright.yml"}
    return {**files, **(extra or {})}


async def tasks_in_db(scenario: Scenario) -> list[Task]:
    async with scenario.harness.sessions() as session:
        return list((await session.execute(select(Task).order_by(Task.id))).scalars())
