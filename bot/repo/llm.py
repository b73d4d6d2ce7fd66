"""The LLM a repository's calls go to: its client (the operator's endpoint, key and limits),
its price, and the month's spend a call is checked against. Shared by every budgeted call:
the code attempts (bot/attempt/budget_guard.py) and planning (bot/plan/llm_plan.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from bot.core.policy import LLMChoice
from bot.llm.base import ConfigurationError, LLMClient
from bot.llm.factory import make_client
from bot.llm.pricing import PricingTable
from bot.llm.retry import RetryPolicy
from bot.runtime import HandlerContext
from bot.settings import RepoConfig, Settings
from bot.store.models import Attempt, utcnow

LLM_PRICING_HELP = "LLM_PRICING=model:usd_per_mtok_in:usd_per_mtok_out on the server"


def llm_client(settings: Settings, choice: LLMChoice) -> LLMClient:
    """A client for the operator's endpoint `choice` names (the command line's way in)."""
    endpoint = settings.policy.endpoint(choice.endpoint)
    if endpoint is None:  # the operator removed it since the task was planned
        raise ConfigurationError(
            f"LLM endpoint {choice.endpoint!r} is no longer configured on this server",
            provider=choice.provider,
        )
    # The key and headers of the endpoint the URL belongs to, never another's.
    return make_client(
        endpoint.provider,
        endpoint.base_url,
        endpoint.api_key,
        choice.model,
        endpoint.headers,
        settings.llm_timeout_seconds,
        deadline_seconds=settings.llm_deadline_seconds,
        max_response_bytes=settings.llm_max_response_bytes,
        retry=retry_policy(settings),
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    backoff = settings.llm_retry_backoff_seconds
    return RetryPolicy(
        max_attempts=settings.llm_max_attempts,
        initial_backoff=backoff,
        max_backoff=max(30.0 * backoff, backoff),
        jitter=backoff,
    )


def make_llm(ctx: HandlerContext, choice: LLMChoice) -> LLMClient:
    if ctx.llm_factory is not None:
        return ctx.llm_factory(choice)
    return llm_client(ctx.settings, choice)


def pricing(ctx: HandlerContext) -> PricingTable:
    return PricingTable(ctx.settings.llm_pricing_overrides)


class UnpricedModelError(ConfigurationError):
    """A call to a model the price table does not know: budgets could not limit it, so it is
    refused before anything is sent rather than counted as free."""

    summary = "The model has no price on this server, so budgets could not limit it"
    hint = (
        f"The server's operator must add its price with {LLM_PRICING_HELP} "
        "(`0:0` for a free local model); then comment `/issuewright retry`."
    )


def require_price(ctx: HandlerContext, choice: LLMChoice) -> None:
    if not pricing(ctx).price(choice.model).known:
        raise UnpricedModelError(
            f"model {choice.model!r} is not in the price table", provider=choice.provider
        )


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def spent_this_month(ctx: HandlerContext, installation_id: int | None) -> float:
    async with ctx.sessions() as session:
        total = (
            await session.execute(
                select(func.coalesce(func.sum(Attempt.cost_usd), 0.0)).where(
                    Attempt.installation_id == installation_id,
                    Attempt.started_at >= month_start(utcnow()),
                )
            )
        ).scalar_one()
    return float(total or 0.0)


def month_cap(ctx: HandlerContext, config: RepoConfig) -> float | None:
    """The installation's monthly cap: the repository's, else the server's."""
    if config.monthly_budget_usd is None:
        return ctx.settings.installation_monthly_budget_usd
    return config.monthly_budget_usd
