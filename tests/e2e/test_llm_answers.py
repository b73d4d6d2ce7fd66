"""What the pipeline does with real-world answer shapes: an answer cut off at the output
limit, and the optional LLM localization step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.repo.llm import spent_this_month
from bot.store.models import Attempt, Task
from tests.e2e.conftest import FIX_ADD, MAINTAINER, REPO, Scenario
from tests.e2e.pipeline_helpers import set_config
from tests.llm_stub import ScriptedLLM, chat_completion

RAMBLING = "def test_add():\n    assert add(1, 1) == 2\n" * 400  # a small model repeating itself


def cut_off(body: dict[str, Any]) -> httpx.Response:
    reply = chat_completion(RAMBLING, body["model"], 1000, body.get("max_tokens") or 4096)
    reply["choices"][0]["finish_reason"] = "length"
    return httpx.Response(200, json=reply)


async def label(scenario: Scenario) -> int:
    issue = await scenario.sim.open_issue(
        REPO, "add() subtracts", "`add(2, 3)` gives -1.", user="reporter"
    )
    await scenario.sim.label_issue(REPO, issue.number, "issuewright", user=MAINTAINER)
    await scenario.settle()
    return issue.number


class TestCutOffAnswer:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM(cut_off, FIX_ADD)

    async def test_repair_round_says_it_was_cut_off_and_echoes_only_its_start(
        self, scenario: Scenario
    ) -> None:
        await label(scenario)
        first, repair = scenario.llm.requests
        assert first["max_tokens"] == 4096  # the repository default `max_output_tokens`
        echoed = repair["messages"][-2]
        assert echoed["role"] == "assistant" and len(echoed["content"]) <= 2000 < len(RAMBLING)
        assert "cut off at the output limit" in repair["messages"][-1]["content"]
        assert len(scenario.sim.pulls(REPO)) == 1


class TestLLMLocalization:
    @pytest.fixture
    def llm(self) -> ScriptedLLM:
        return ScriptedLLM("calc/ops.py\n", FIX_ADD)

    async def test_the_model_picks_files_first_and_its_cost_is_counted(
        self, scenario: Scenario
    ) -> None:
        set_config(
            scenario.sim, "llm_provider: openai\nllm_model: gpt-4o-mini\nllm_localize: true\n"
        )
        await label(scenario)
        pick, edit = scenario.llm.requests
        assert "<repository_map>" in pick["messages"][-1]["content"]
        assert "calc/ops.py" in edit["messages"][-1]["content"]
        assert len(scenario.sim.pulls(REPO)) == 1
        async with scenario.harness.sessions() as session:
            task = (await session.execute(select(Task))).scalar_one()
            rows = (await session.execute(select(Attempt).order_by(Attempt.id))).scalars()
            attempts = list(rows)
        # The picking call is on the task, and an attempt row of its own: the month's spend
        # that the installation's cap is checked against counted only the code attempts.
        assert [a.kind for a in attempts] == ["localize", "generate"]
        assert task.input_tokens == sum(a.input_tokens for a in attempts)
        spent = await spent_this_month(scenario.harness.ctx, attempts[0].installation_id)
        assert attempts[0].cost_usd > 0 and spent == pytest.approx(task.cost_usd)


async def test_localization_is_off_by_default(scenario: Scenario) -> None:
    await label(scenario)
    assert len(scenario.llm.requests) == 1
    assert "<repository_map>" not in scenario.llm.requests[0]["messages"][-1]["content"]
