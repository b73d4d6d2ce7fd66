"""An LLM endpoint that never finishes its answer, through the app and the simulated GitHub:
the call ends at its deadline or size cap, the task fails with a status comment that says
which operator setting stopped it, no job is left holding a worker, nothing is pushed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.llm import make_client
from tests.e2e.conftest import Scenario
from tests.e2e.pipeline_helpers import (
    assert_jobs_finished,
    branches,
    label_new_issue,
    only_task,
    status_text,
)
from tests.llm.hostile import HostileEndpoint
from tests.llm_stub import ScriptedLLM


class HostileLLM(ScriptedLLM):
    """The app's LLM client, aimed at a hostile endpoint on 127.0.0.1 with tight limits."""

    def __init__(self, endpoint: HostileEndpoint, base_url: str, **limits: Any) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.base_url = base_url
        self.limits = limits

    def factory(self, choice: Any) -> Any:  # the run's LLM choice: only its model is used
        return make_client(
            "openai",
            base_url=self.base_url,
            api_key="sk-test-not-real-0123",
            model=choice.model,
            timeout=30.0,  # per read: a trickle never trips it
            **self.limits,
        )


def event(n: int) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": {"content": "x" * 500}}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


# name: (the endpoint, the client's limits, the setting the status comment must name)
ENDPOINTS: dict[str, tuple[Callable[[], HostileEndpoint], dict[str, Any], str]] = {
    # One byte of JSON whitespace at a time: every read gets data, the answer never ends.
    "trickle": (
        lambda: HostileEndpoint(chunk=lambda n: b" ", pace=0.005),
        {"deadline_seconds": 0.5},
        "LLM_DEADLINE_SECONDS",
    ),
    # A body that never ends, as fast as the client reads it.
    "endless": (
        lambda: HostileEndpoint(
            chunk=lambda n: b"a" * 16384, head=b'{"choices": [{"message": {"content": "'
        ),
        {"max_response_bytes": 300_000},
        "LLM_MAX_RESPONSE_BYTES",
    ),
}


@pytest.fixture(params=sorted(ENDPOINTS))
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[ScriptedLLM]:
    make_endpoint, limits, _ = ENDPOINTS[request.param]
    endpoint = make_endpoint()
    async with endpoint.serve() as base_url:
        yield HostileLLM(endpoint, base_url, **limits)


async def test_a_never_ending_answer_fails_the_task_and_frees_the_worker(
    scenario: Scenario, llm: HostileLLM
) -> None:
    # The wait is only a safety net: without the limits the answer never ends.
    number = await asyncio.wait_for(label_new_issue(scenario), 120)
    setting = next(s for _, limits, s in ENDPOINTS.values() if limits == llm.limits)
    task = await only_task(scenario)
    assert task.state == "failed" and task.pr_number is None
    assert llm.endpoint.answering.is_set() and llm.endpoint.connections == 1
    await asyncio.wait_for(llm.endpoint.hung_up.wait(), 30)  # the app closed the connection
    status = status_text(scenario, number)
    assert setting in status and "/issuewright retry" in status
    assert "127.0.0.1" not in status
    assert branches(scenario.sim) == ["main"]
    await assert_jobs_finished(scenario)
