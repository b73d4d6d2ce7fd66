"""The `generate` job: checks before spending, then the task's first attempt."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from bot import workspace
from bot.attempts import AttemptSpec, note, run_attempt, show_status
from bot.codegen import end_task
from bot.core.decompose import PlannedTask
from bot.core.lifecycle import TaskEvent, TaskState
from bot.dispatch import Router
from bot.github import RateLimited
from bot.planning import IssueText, plan_task
from bot.prompts import PromptLibrary
from bot.pulls import throttle_reason
from bot.repo_access import RepoAccess
from bot.runs import llm_choice
from bot.runtime import HandlerContext
from bot.store import queue
from bot.store.models import IssueRun, Task, utcnow
from bot.taskstore import apply_event

log = logging.getLogger(__name__)
router = Router()
THROTTLE_RETRY = timedelta(minutes=10)


@router.job("generate")
async def generate(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    task_id = int(payload["task_id"])
    cause = f"job:{job_id}"
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        run = await session.get(IssueRun, task.run_id) if task else None
    if task is None or run is None or task.state not in (TaskState.QUEUED, TaskState.GENERATING):
        log.info(
            "generate job %s: task %s is %s, nothing to do", job_id, task_id, task and task.state
        )
        return
    # GENERATING: a worker that died had claimed this job; the queue runs one job per task at
    # a time, so the task is ours to finish (its branch and PR are found again, not remade).
    resuming = task.state == TaskState.GENERATING
    repo = RepoAccess.open(ctx, run.installation_id, task.repository)
    try:
        config, _ = await repo.config()
        issue = await repo.api.get_issue(repo.owner, repo.name, task.issue_number)
    except RateLimited as exc:
        await note(ctx, run.id, f"Task {task.ordinal}: {exc}.")
        async with ctx.sessions() as session, session.begin():
            await queue.enqueue(
                session, "generate", payload, task_id=task_id, run_after=exc.reset_at
            )
        return
    choice = llm_choice(config, ctx.settings)
    if choice is None or issue.state != "open" or getattr(issue, "locked", False):
        why = "no LLM is configured" if choice is None else "the issue is closed or locked"
        await end_task(ctx, task_id, TaskEvent.CANCEL, cause, f"not generated: {why}")
        await show_status(ctx, repo, run.id)
        return
    waiting = None if resuming else await throttle_reason(ctx, repo.full_name, config)
    if waiting:
        await note(ctx, run.id, f"Task {task.ordinal} is {waiting}.")
        async with ctx.sessions() as session, session.begin():
            await queue.enqueue(
                session, "generate", payload, task_id=task_id, run_after=utcnow() + THROTTLE_RETRY
            )
        await show_status(ctx, repo, run.id)
        return
    async with ctx.sessions() as session, session.begin():
        row = await session.get(Task, task_id)
        assert row is not None
        if not resuming and not await apply_event(session, row, TaskEvent.START_GENERATION, cause):
            return
        if payload.get("fresh_branch") or not row.branch:
            suffix = (
                f"{row.ordinal}"
                if not payload.get("fresh_branch")
                else f"{row.ordinal}-r{row.attempts + 1}"
            )
            row.branch = workspace.branch_name(row.issue_number, suffix)
        row.last_error = None
    await show_status(ctx, repo, run.id)

    base = await repo.base_branch()
    await repo.base_sha(base)
    library = PromptLibrary(await repo.prompt_overrides())
    repo_map = await repo.repo_map()
    text = IssueText(repo.full_name, task.issue_number, issue.title, issue.body, issue.labels)
    planned = PlannedTask(
        task.key, task.ordinal, task.title, task.body, task.task_type, list(task.depends_on)
    )  # type: ignore[arg-type]
    tp = await asyncio.to_thread(
        plan_task, text, planned, [planned], repo_map, library, config, model=choice.model
    )
    spec = AttemptSpec(
        kind="generate",
        system=tp.system,
        prompt=tp.prompt,
        files=tuple(tp.files),
        start_ref=base,
        success=TaskEvent.PR_OPENED,
        failure=TaskEvent.GENERATION_FAILED,
        extra_instructions=payload.get("instructions"),
    )
    await run_attempt(ctx, repo, task_id, config, choice, job_id, spec)
