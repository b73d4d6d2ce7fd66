"""One task attempt: prompt → LLM → edits → worktree → commit → push → pull request.

Runs as a job (`generate`), at most one per task at a time (the queue guarantees it). Every
stage is an event row; every failure a person can fix ends in a task state and a message in
the status comment. Re-running the job never makes a second branch, PR or comment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.attempt.budget_guard import Spend, call_llm
from bot.attempt.edit_rounds import Round, StopAttempt, edit_rounds
from bot.attempt.formatter import formatter_for
from bot.attempt.record_keeper import RecordKeeper
from bot.attempt.safe_write import EditPlan
from bot.core.lifecycle import TaskEvent, TaskState
from bot.core.policy import LLMChoice
from bot.core.publish import publishable
from bot.core.render import render_commit_message
from bot.git import worktrees as workspace
from bot.llm.base import ChatMessage, LLMError, LLMResponse
from bot.repo.access import RepoAccess
from bot.repo.llm import make_llm
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.store.models import IssueRun, Task
from bot.store.tasks import save_stage

log = logging.getLogger(__name__)


@dataclass
class AttemptResult:
    summary: str
    plan: EditPlan
    commit: str
    spend: Spend
    notes: list[str] = field(default_factory=list)


def bot_identity(ctx: HandlerContext) -> workspace.GitIdentity:
    slug = ctx.settings.app_slug
    user_id = ctx.settings.app_id or "0"
    return workspace.GitIdentity(f"{slug}[bot]", f"{user_id}+{slug}[bot]@users.noreply.github.com")


async def safe_point(ctx: HandlerContext, task_id: int) -> None:
    """Stop here if someone cancelled the task meanwhile."""
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
    if task is None or task.state == TaskState.CANCELLED:
        raise StopAttempt(TaskEvent.CANCEL, "cancelled while generating")


async def generate_edits(
    ctx: HandlerContext,
    repo: RepoAccess,
    task: Task,
    run: IssueRun,
    attempt_id: int,
    worktree: Path,
    config: RepoConfig,
    choice: LLMChoice,
    messages: list[ChatMessage],
    spend: Spend,
    *,
    progress: Callable[[int], None] | None = None,
    reuse: tuple[int, str] | None = None,
) -> AttemptResult:
    """Ask, apply all-or-nothing, and give parse/apply problems back for one repair round.
    `spend` is the caller's, so what was spent is known even when this raises; `progress`
    hears the output tokens received so far while an answer arrives. `reuse` (attempt id,
    answer): what an interrupted run of this job already got, taken as round 1's answer
    instead of a call (`attempt/takeover.py`)."""
    client = make_llm(ctx, choice)
    formatter = formatter_for(ctx.settings, config)
    record = RecordKeeper(ctx, attempt_id, max_files=config.max_files_per_task)

    async def ask(round_: int, messages: list[ChatMessage]) -> LLMResponse:
        await safe_point(ctx, task.id)
        await record.asking(messages)
        if round_ == 1 and reuse is not None:
            return await reused(*reuse)
        started = f"round {round_} with {choice.model}"
        await save_stage(ctx.sessions, "generation_started", started, task_id=task.id)
        response = await call_llm(
            ctx,
            client,
            task.id,
            attempt_id,
            repo.installation_id,
            config,
            choice,
            messages,
            spend,
            progress=progress,
        )
        await record.answered(response)
        await save_stage(
            ctx.sessions,
            "generation_finished",
            f"{response.input_tokens} in / {response.output_tokens} out tokens",
            task_id=task.id,
            data={"finish_reason": str(response.finish_reason)},
        )
        return response

    async def reused(earlier: int, text: str) -> LLMResponse:
        response = LLMResponse(text, choice.model, 0, 0, "stop", provider=choice.provider)
        await record.answered(response)
        await save_stage(
            ctx.sessions,
            "generation_reused",
            f"the answer attempt {earlier} got before its job stopped (no call made)",
            task_id=task.id,
        )
        return response

    async def seen(done: Round) -> None:
        await record.checked(done)

    try:
        plan = await edit_rounds(worktree, config, formatter, messages, ask, seen)
    finally:
        await client.aclose()
    await safe_point(ctx, task.id)
    author = bot_identity(ctx)
    co = (
        [workspace.GitIdentity(run.author, f"{run.author}@users.noreply.github.com")]
        if run.author
        else []
    )
    message = publishable(
        render_commit_message(task.title, task.ordinal, task.issue_number),
        ctx.settings.secrets(),
    )
    commit = await asyncio.to_thread(
        workspace.commit_all, worktree, message, author=author, co_authors=co
    )
    if commit is None:
        raise StopAttempt(TaskEvent.GENERATION_FAILED, "the answer changed nothing")
    await record.committed(await asyncio.to_thread(workspace.diff_of_head, worktree))
    await save_stage(
        ctx.sessions, "edits_applied", ", ".join(c.path for c in plan.changes), task_id=task.id
    )
    return AttemptResult(plan.summary or "", plan, commit, spend, list(plan.notes))


def llm_failure(exc: LLMError) -> StopAttempt:
    """The comment says what failed and what to do; the detail (endpoint URL, the start of
    its answer) goes to the log and the stored attempt only."""
    return StopAttempt(TaskEvent.GENERATION_FAILED, exc.user_message, detail=str(exc))
