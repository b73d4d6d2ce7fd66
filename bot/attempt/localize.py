"""The optional LLM localization step (repo config `llm_localize: true`): the model picks
files from the repository map and the selector's top candidates, within the task's budget.
Its picks move up; every file it ignores keeps its rank, so it never lowers the no-LLM floor."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from bot.attempt.budget_guard import budget_check
from bot.context import RepoMap, rank_files
from bot.context.llm_pick import llm_pick_files
from bot.core.decompose import PlannedTask
from bot.core.policy import LLMChoice
from bot.llm.base import ChatMessage
from bot.plan.planner import IssueText, task_query
from bot.repo.llm import make_llm, pricing
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.store.attempt_records import record_call
from bot.store.models import Task
from bot.store.tasks import charge_task

log = logging.getLogger(__name__)


async def llm_ranking(
    ctx: HandlerContext,
    task_id: int,
    installation_id: int | None,
    config: RepoConfig,
    choice: LLMChoice,
    repo_map: RepoMap,
    issue: IssueText,
    task: PlannedTask,
) -> list[tuple[str, float]] | None:
    """The ranking reordered by the model's picks, or None when the step is off."""
    if not config.llm_localize:
        return None

    query, title = task_query(issue, task)
    ranked = await asyncio.to_thread(rank_files, repo_map, query, title=title)

    async def gate(messages: Sequence[ChatMessage], answer_tokens: int) -> bool:
        async with ctx.sessions() as session:
            row = await session.get(Task, task_id)
            assert row is not None
            return (await budget_check(ctx, row, installation_id, config, choice, messages)).allowed

    client = make_llm(ctx, choice)
    began = time.monotonic()
    try:
        pick = await llm_pick_files(
            client,
            repo_map,
            ranked,
            query,
            title=title,
            budget_tokens=min(8000, config.context_budget_tokens // 2),
            gate=gate,
            model=choice.model,
        )
    finally:
        await client.aclose()
    seconds = time.monotonic() - began
    if pick.response is not None:
        response = pick.response
        cost = pricing(ctx).cost_usd(
            response.model or choice.model, response.input_tokens, response.output_tokens
        )
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task_id)
            if row is not None:
                attempt = charge_task(
                    session,
                    row,
                    installation_id=installation_id,
                    kind="localize",
                    provider=choice.provider,
                    model=response.model or choice.model,
                    input_tokens=response.input_tokens,
                    output_tokens=response.output_tokens,
                    cost_usd=cost,
                )
                await record_call(
                    session,
                    attempt,
                    messages=pick.messages,
                    answer=response.text,
                    outcome={"picked": pick.picked, "note": pick.note},
                    secrets=ctx.settings.secrets(),
                    seconds=seconds,
                )
    if pick.note:
        log.info("task %s: LLM localization: %s", task_id, pick.note)
    return pick.ranked
