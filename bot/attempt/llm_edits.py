"""One task attempt: prompt → LLM → edits → worktree → commit → push → pull request.

Runs as a job (`generate`), at most one per task at a time (the queue guarantees it). Every
stage is an event row; every failure a person can fix ends in a task state and a message in
the status comment. Re-running the job never makes a second branch, PR or comment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.attempt import safe_write as safety
from bot.attempt.apply_answer import apply_answer
from bot.attempt.budget_guard import Spend, call_llm
from bot.attempt.formatter import FormatterRefused, format_changes, formatter_for
from bot.attempt.safe_write import EditPlan
from bot.core.lifecycle import TaskEvent, TaskState
from bot.core.policy import LLMChoice
from bot.core.publish import publishable
from bot.core.render import render_commit_message
from bot.core.repair import echoed_answer, refusal_message, render_repair_message
from bot.git import worktrees as workspace
from bot.llm.base import ChatMessage, LLMError
from bot.repo.access import RepoAccess
from bot.repo.llm import make_llm
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.store.models import IssueRun, Task
from bot.store.tasks import record_stage

log = logging.getLogger(__name__)
MAX_TRUNCATED_ECHO_CHARS = 2_000


class StopAttempt(Exception):
    """The attempt ends here with this task event and message (already user-facing)."""

    def __init__(
        self,
        event: TaskEvent,
        message: str,
        *,
        keep_branch: bool = False,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.event = event
        self.message = message
        self.keep_branch = keep_branch
        self.detail = detail  # for the log and the stored attempt, never for a comment


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
) -> AttemptResult:
    """Ask, apply all-or-nothing, and give parse/apply problems back for one repair round.
    `spend` is the caller's, so what was spent is known even when this raises."""
    client = make_llm(ctx, choice)
    formatter = formatter_for(ctx.settings, config)
    first_problems: str | None = None
    try:
        for round_ in (1, 2):
            await safe_point(ctx, task.id)
            async with ctx.sessions() as session, session.begin():
                await record_stage(
                    session,
                    "generation_started",
                    f"round {round_} with {choice.model}",
                    task_id=task.id,
                )
            try:
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
                )
            except LLMError as exc:
                if first_problems is None:
                    raise
                # Say what was wrong with the first answer, not only why its repair failed.
                raise StopAttempt(
                    TaskEvent.GENERATION_FAILED,
                    f"{first_problems}; the repair round then failed: {exc.user_message}",
                    detail=str(exc),
                ) from None
            async with ctx.sessions() as session, session.begin():
                await record_stage(
                    session,
                    "generation_finished",
                    f"{response.input_tokens} in / {response.output_tokens} out tokens",
                    task_id=task.id,
                    data={"finish_reason": str(response.finish_reason)},
                )
            try:
                plan = await asyncio.to_thread(
                    apply_answer,
                    worktree,
                    response.text,
                    denied_paths=config.denied_paths,
                    max_file_bytes=config.max_file_bytes,
                )
                if plan.ok and formatter is not None:
                    note = await asyncio.to_thread(
                        format_changes, worktree, formatter, plan, config.denied_paths
                    )
                    plan = replace(plan, notes=(*plan.notes, note)) if note else plan
            except safety.WriteError as exc:  # rolled back; a disk problem, not the model's
                raise StopAttempt(
                    TaskEvent.GENERATION_FAILED,
                    f"the edits could not be written ({exc}); nothing was pushed. "
                    "Comment `/issuewright retry` to try again.",
                ) from None
            except FormatterRefused as exc:
                raise StopAttempt(
                    TaskEvent.GENERATION_FAILED,
                    f"{exc}; nothing was pushed. Check the formatter's configuration, then "
                    "comment `/issuewright retry`.",
                ) from None
            if plan.ok and len(plan.changes) > config.max_files_per_task:
                raise StopAttempt(
                    TaskEvent.GENERATION_FAILED,
                    f"the answer changes {len(plan.changes)} files; the limit is "
                    f"{config.max_files_per_task} (`max_files_per_task`)",
                )
            if plan.ok and plan.changes:
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
                async with ctx.sessions() as session, session.begin():
                    await record_stage(
                        session,
                        "edits_applied",
                        ", ".join(c.path for c in plan.changes),
                        task_id=task.id,
                    )
                return AttemptResult(plan.summary or "", plan, commit, spend, list(plan.notes))
            problems = list(plan.problems)
            if plan.ok:  # parsed fine but no edits at all
                feedback = (
                    "Your answer contained no edit blocks. Answer with SEARCH/REPLACE blocks."
                )
            else:
                feedback = render_repair_message(problems)
            cut_off = response.finish_reason == "length"
            if cut_off:
                feedback = (
                    "Your answer was cut off at the output limit. Answer again with fewer, "
                    "smaller SEARCH/REPLACE blocks: only the lines that change.\n\n" + feedback
                )
            if round_ == 2:
                raise StopAttempt(TaskEvent.GENERATION_FAILED, refusal_message(problems))
            first_problems = refusal_message(problems) + (
                " (the answer was cut off at `max_output_tokens`)" if cut_off else ""
            )
            # A cut-off answer is mostly repetition: echo only its start, or the repair round
            # may not fit the model's context at all.
            echo = (
                response.text[:MAX_TRUNCATED_ECHO_CHARS]
                if cut_off
                else echoed_answer(response.text)
            )
            messages = [
                *messages,
                ChatMessage("assistant", echo),
                ChatMessage("user", feedback),
            ]
    finally:
        await client.aclose()
    raise AssertionError("unreachable")


def llm_failure(exc: LLMError) -> StopAttempt:
    """The comment says what failed and what to do; the detail (endpoint URL, the start of
    its answer) goes to the log and the stored attempt only."""
    return StopAttempt(TaskEvent.GENERATION_FAILED, exc.user_message, detail=str(exc))
