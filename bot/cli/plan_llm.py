"""`llm_plan` in `issuewright plan`: what the app would do, and with `--llm` the call itself.

Without `--llm` no model is called: the preview shows the rule-based plan (the app's fallback)
with a line saying the app would ask the model and what that call may cost. With `--llm` the
model is asked through the same step as in the app (bot/plan/llm_plan.py: the same prompt,
JSON schema, checks and fallbacks); its gate checks the price and the task budget only, since
the command line keeps no spend and does not know the month's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.cli.output import CliError
from bot.core.budget import reserve_call
from bot.core.plan_grouping import GroupingInput, GroupingOutcome
from bot.llm.base import ChatMessage
from bot.llm.pricing import PricingTable
from bot.plan.llm_plan import (
    Asked,
    answer_tokens,
    ask_grouping,
    gate_reason,
    grouping_messages,
    wanted,
)
from bot.plan.planner import IssueText
from bot.repo.config import llm_choice
from bot.repo.llm import llm_client
from bot.settings import CONFIG_PATH, RepoConfig, Settings


def preview_grouping(
    settings: Settings, config: RepoConfig, issue: IssueText, *, ask: bool
) -> tuple[GroupingOutcome | None, dict[str, Any] | None]:
    """The grouping step as the app would take it, and the call made (with `ask`)."""
    choice = llm_choice(config, settings)
    model = choice.model if choice else None
    step = wanted(config, model, issue)
    if step is None:
        if ask:
            raise CliError(
                f"--llm asks the model to group the items, which the app does only with "
                f"`llm_plan: true` in {CONFIG_PATH}; it is off for this repository"
            )
        return None, None
    if isinstance(step, Asked):
        return step.outcome, None
    assert choice is not None and model is not None  # `wanted` asks only with a model
    table = PricingTable(settings.llm_pricing_overrides)
    if not ask:
        return GroupingOutcome(model, step, why=_would_ask(issue, step, config, model, table)), None

    async def gate(messages: Sequence[ChatMessage], tokens: int) -> str | None:
        return gate_reason(messages, tokens, model, table, config, 0.0, None)

    async def run() -> Asked:
        client = llm_client(settings, choice)
        try:
            return await ask_grouping(client, issue, step, config, model, gate)
        finally:
            await client.aclose()

    asked = asyncio.run(run())
    call = None
    if asked.response is not None:
        response = asked.response
        call = {
            "model": model,
            "input_tokens": response.input_tokens,
            "output_tokens": response.output_tokens,
            "cost_usd": table.cost_usd(model, response.input_tokens, response.output_tokens),
            "used": asked.outcome.grouping is not None,
        }
    return asked.outcome, call


def _would_ask(
    issue: IssueText, given: GroupingInput, config: RepoConfig, model: str, table: PricingTable
) -> str:
    messages = grouping_messages(issue, given, config.max_tasks_per_issue)
    price = table.price(model)
    cost = ""
    if price.known:
        reserve = reserve_call(
            (m.content for m in messages),
            answer_tokens(given, config),
            (price.input_per_mtok, price.output_per_mtok),
        )
        cost = f", up to ${reserve.cost_usd or 0.0:.4f}"
    return (
        f"Rule-based plan shown: with `llm_plan` the app asks {model} to group the "
        f"{len(given.open)} open items (one call{cost}) and uses this plan only when the "
        "answer breaks a rule; add --llm to ask it here."
    )
