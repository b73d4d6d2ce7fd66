"""Money: estimate before an LLM call, refuse what would exceed a budget, record what was
spent. Every call's tokens and cost land on its attempt and its task. The repository's
client, price and month's spend are bot/repo/llm.py's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.core.budget import BudgetDecision, check_budget, reserve_call
from bot.core.policy import LLMChoice
from bot.llm.base import ChatMessage, LLMClient, LLMRequest, LLMResponse
from bot.repo.llm import month_cap, pricing, require_price, spent_this_month
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.store.models import Attempt, Task


class BudgetExceeded(Exception):
    def __init__(self, decision: BudgetDecision) -> None:
        super().__init__(decision.message)
        self.decision = decision


@dataclass
class Spend:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    warning: str | None = None
    # For the status comment (published by the attempt even when it fails).
    notes: list[str] = field(default_factory=list)

    def add_note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


async def budget_check(
    ctx: HandlerContext,
    task: Task,
    installation_id: int | None,
    config: RepoConfig,
    choice: LLMChoice,
    messages: Sequence[ChatMessage],
) -> BudgetDecision:
    price = pricing(ctx).price(choice.model)
    reserve = reserve_call(
        (m.content for m in messages),
        config.max_output_tokens,
        (price.input_per_mtok, price.output_per_mtok),
    )
    estimate = reserve.cost_usd or 0.0
    return check_budget(
        estimate,
        task.cost_usd,
        config.task_budget_usd,
        await spent_this_month(ctx, installation_id),
        month_cap(ctx, config),
        config.budget_warn_ratio,
    )


async def call_llm(
    ctx: HandlerContext,
    client: LLMClient,
    task_id: int,
    attempt_id: int,
    installation_id: int | None,
    config: RepoConfig,
    choice: LLMChoice,
    messages: Sequence[ChatMessage],
    spend: Spend,
    *,
    progress: Callable[[int], None] | None = None,
) -> LLMResponse:
    """One budgeted call, streamed: refused before it would exceed a cap; its usage stored
    after. `progress` hears the output tokens received so far while the answer arrives."""
    require_price(ctx, choice)  # before any spend is read: an unpriced call is never made
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        decision = await budget_check(ctx, task, installation_id, config, choice, messages)
    if not decision.allowed:
        raise BudgetExceeded(decision)
    if decision.message:
        spend.warning = decision.message
        spend.add_note(decision.message)
    # Streamed: a long answer keeps the connection busy instead of idle until a proxy or the
    # read timeout cuts it, and `progress` hears tokens as they arrive.
    request = LLMRequest(
        messages=list(messages),
        max_tokens=config.max_output_tokens,
        stream=True,
        progress=progress,
    )
    response = await client.complete(request)
    # Priced as the model that was asked for and budgeted, whatever id the endpoint reports.
    cost = pricing(ctx).cost_usd(choice.model, response.input_tokens, response.output_tokens)
    spend.input_tokens += response.input_tokens
    spend.output_tokens += response.output_tokens
    spend.cost_usd += cost
    async with ctx.sessions() as session, session.begin():
        attempt = await session.get(Attempt, attempt_id)
        task = await session.get(Task, task_id)
        if attempt is not None:
            attempt.input_tokens += response.input_tokens
            attempt.output_tokens += response.output_tokens
            attempt.cost_usd += cost
        if task is not None:
            task.input_tokens += response.input_tokens
            task.output_tokens += response.output_tokens
            task.cost_usd += cost
    if ctx.metrics is not None:
        # Labelled with the configured model: the name an endpoint answers with is its own.
        ctx.metrics.llm_call(choice.model, response.input_tokens, response.output_tokens, cost)
    return response
