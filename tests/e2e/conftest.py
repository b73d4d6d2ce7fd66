"""The real app wired to the GitHub simulator and a scripted LLM: scenarios end to end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from githubkit.cache import MemCacheStrategy

from bot.core.policy import Endpoint
from bot.github.access import GitHubAccess
from bot.settings import Settings
from tests.conftest import make_settings
from tests.ghsim.simulator import GitHubSimulator
from tests.harness import Harness, running_app
from tests.llm_stub import ScriptedLLM

# The operator's endpoint the test repositories pick with `llm_provider: openai` (the scripted
# LLM answers in its place); there is no server default, so a repository without config plans.
TEST_ENDPOINT = Endpoint(
    "test-openai", "openai", "http://llm.invalid/v1", "sk-test-key", (), ("*",)
)

REPO = "octo-org/calc"
MAINTAINER = "octocat"

CALC_FILES = {
    "README.md": "# calc\n\nTiny arithmetic helpers.\n",
    "calc/__init__.py": (
        '"""Tiny arithmetic helpers."""\n\nfrom calc.ops import add, sub\n\n__all__ = ["add", "sub"]\n'
    ),
    "calc/ops.py": (
        '"""Arithmetic operations."""\n\n\n'
        "def add(a: int, b: int) -> int:\n"
        '    """Return the sum of a and b."""\n'
        "    return a - b\n\n\n"
        "def sub(a: int, b: int) -> int:\n"
        '    """Return a minus b."""\n'
        "    return a - b\n"
    ),
    "tests/test_ops.py": (
        "from calc import add, sub\n\n\ndef test_sub():\n    assert sub(3, 1) == 2\n"
    ),
    ".github/issuewright.yml": "llm_provider: openai\nllm_model: gpt-4o-mini\n",
}

BUG_REPORT = """`calc.add` returns the difference instead of the sum.

### Steps to reproduce
1. `from calc import add`
2. `add(2, 3)`

### Expected behaviour
`5`

### Actual behaviour
`-1`
"""

FIX_ADD = """The bug is in `calc/ops.py`: `add` subtracts.

calc/ops.py
```python
<<<<<<< SEARCH
    \"\"\"Return the sum of a and b.\"\"\"
    return a - b
=======
    \"\"\"Return the sum of a and b.\"\"\"
    return a + b
>>>>>>> REPLACE
```

SUMMARY: `add` now returns `a + b`.
"""


@dataclass
class Scenario:
    sim: GitHubSimulator
    harness: Harness
    llm: ScriptedLLM
    settings: Settings

    async def settle(self, rounds: int = 20) -> None:
        """Deliver what GitHub would send and run every job it causes, until all is quiet."""
        for _ in range(rounds):
            await self.sim.flush()
            ran = await self.harness.drain()
            if not ran and not self.sim.outbox:
                return
        raise AssertionError("the app and the simulator did not settle")

    def status_comments(self, number: int) -> list[Any]:
        return [c for c in self.sim.comments(REPO, number) if "issuewright:status" in c.body]


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(FIX_ADD)


@asynccontextmanager
async def scenario_with(
    tmp_path: Path,
    sqlite_url: str,
    sim: GitHubSimulator,
    llm: ScriptedLLM,
    *,
    real_llm_client: bool = False,
    **overrides: Any,
) -> AsyncIterator[Scenario]:
    """The app on `sim` with the `calc` repository, a maintainer, and extra server settings.
    With `real_llm_client` the app builds its own LLM clients from the settings' endpoints (for
    tests with real HTTP endpoints on 127.0.0.1) instead of using the scripted one."""
    overrides.setdefault("llm_endpoints", (TEST_ENDPOINT,))
    settings = make_settings(tmp_path, sqlite_url, **sim.settings_overrides(), **overrides)
    access = GitHubAccess.from_settings(
        settings, transport=sim.transport(), cache_strategy=MemCacheStrategy()
    )
    factory = None if real_llm_client else llm.factory
    async with running_app(settings, github=access, llm_factory=factory) as harness:

        async def deliver(event: str, payload: dict[str, Any]) -> None:
            response = await harness.post(event, payload, delivery=str(uuid.uuid4()))
            assert response.status_code in (200, 202), response.text

        sim.deliver = deliver
        sim.create_repo("octo-org", "calc", CALC_FILES)
        sim.set_permission(REPO, MAINTAINER, "admin")
        yield Scenario(sim, harness, llm, settings)


@pytest.fixture
async def scenario(
    tmp_path: Path, sqlite_url: str, github_sim: GitHubSimulator, llm: ScriptedLLM
) -> AsyncIterator[Scenario]:
    async with scenario_with(tmp_path, sqlite_url, github_sim, llm) as built:
        yield built
