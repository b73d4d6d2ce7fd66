"""The `generate` job: checks before spending, then the task's first attempt."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from typing import Any

from bot.attempt.localize import llm_ranking
from bot.attempt.pull_request import dress_pull, throttle_reason
from bot.attempt.records import end_task
from bot.attempt.resume import show_what_it_did
from bot.attempt.runner import AttemptSpec, discard_checkout, run_attempt
from bot.core.lifecycle import TaskEvent, TaskState
from bot.git import worktrees as workspace
from bot.github import RateLimited
from bot.jobs.dispatch import Router
from bot.plan.approvals import approved_text
from bot.plan.planner import IssueText, plan_task
from bot.plan.start import run_planned_tasks, stored_task
from bot.prompts.library import PromptLibrary
from bot.repo.access import RepoAccess
from bot.repo.config import llm_choice
from bot.report.notes import task_note
from bot.report.publish import publish_run
from bot.runtime import HandlerContext
from bot.store import queue
from bot.store.models import IssueRun, Job, Task, utcnow
from bot.store.tasks import apply_event, record_stage

log = logging.getLogger(__name__)
router = Router()
THROTTLE_RETRY = timedelta(minutes=10)


@router.job("generate")
async def generate(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    task_id = int(payload["task_id"])
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        run = await session.get(IssueRun, task.run_id) if task else None
    if task is None or run is None:
        return
    repo = RepoAccess.open(ctx, run.installation_id, task.repository, run.repository_id)
    if task.state not in (TaskState.QUEUED, TaskState.GENERATING):
        log.info("generate job %s: task %s is %s, nothing to do", job_id, task_id, task.state)
        await show_what_it_did(ctx, repo, task_id, job_id)
        return
    try:
        await _generate(ctx, repo, task, run, payload, job_id)
    except RateLimited as exc:
        # Nothing was spent yet: wait for GitHub, say so, and run again then.
        await task_note(ctx, run.id, task.ordinal, f"{exc}.")
        async with ctx.sessions() as session, session.begin():
            await queue.enqueue(
                session, "generate", payload, task_id=task_id, run_after=exc.reset_at
            )
        await publish_run(ctx, repo.api, run.id)
    except Exception as exc:
        # Before any LLM call (run_attempt handles its own failures). The queue retries with
        # backoff; on the last try the task must not stay queued or generating forever.
        if not await _last_try(ctx, job_id):
            raise
        log.exception("generate job %s: giving up on task %s", job_id, task_id)
        message = (
            f"could not start: {type(exc).__name__}: {exc}"[:300]
            + ". Comment `/issuewright retry` to try again."
        )
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task_id)
            if row is not None and row.state == TaskState.QUEUED:
                await apply_event(session, row, TaskEvent.START_GENERATION, f"job:{job_id}")
        await end_task(ctx, task_id, TaskEvent.GENERATION_FAILED, f"job:{job_id}", message)
        await task_note(ctx, run.id, task.ordinal, message)
        await publish_run(ctx, repo.api, run.id)


async def _last_try(ctx: HandlerContext, job_id: int) -> bool:
    async with ctx.sessions() as session:
        job = await session.get(Job, job_id)
    return job is None or job.attempts >= job.max_attempts


async def _generate(
    ctx: HandlerContext,
    repo: RepoAccess,
    task: Task,
    run: IssueRun,
    payload: dict[str, Any],
    job_id: int,
) -> None:
    task_id, cause = task.id, f"job:{job_id}"
    # GENERATING: a worker that died had claimed this job; the queue runs one job per task at
    # a time, so the task is ours to finish (its branch and PR are found again, not remade).
    resuming = task.state == TaskState.GENERATING
    config, _ = await repo.config()
    issue = await repo.api.get_issue(repo.owner, repo.name, task.issue_number)
    choice = llm_choice(config, ctx.settings)
    if choice is None or issue.state != "open" or getattr(issue, "locked", False):
        why = "no LLM is configured" if choice is None else "the issue is closed or locked"
        await end_task(ctx, task_id, TaskEvent.CANCEL, cause, f"not generated: {why}")
        await publish_run(ctx, repo.api, run.id)
        return
    if resuming and task.branch and await _adopt_open_pull(ctx, repo, task, run, cause):
        await task_note(ctx, run.id, task.ordinal, None)
        await publish_run(ctx, repo.api, run.id)
        return
    waiting = None if resuming else await throttle_reason(ctx, repo.repository_id, config)
    if waiting:
        again = utcnow() + THROTTLE_RETRY
        await task_note(ctx, run.id, task.ordinal, f"{waiting}; checked again {again:%H:%M} UTC.")
        async with ctx.sessions() as session, session.begin():
            await queue.enqueue(session, "generate", payload, task_id=task_id, run_after=again)
        await publish_run(ctx, repo.api, run.id)
        return
    async with ctx.sessions() as session, session.begin():
        row = await session.get(Task, task_id)
        assert row is not None
        if not resuming and not await apply_event(session, row, TaskEvent.START_GENERATION, cause):
            return
        # A re-run keeps the branch its first run chose (and may have pushed): the attempt
        # counter has moved on since, and a new name would leave a second branch behind.
        fresh = bool(payload.get("fresh_branch")) and not resuming
        if fresh or not row.branch:
            suffix = f"{row.ordinal}-r{row.attempts + 1}" if fresh else f"{row.ordinal}"
            row.branch = workspace.branch_name(row.issue_number, suffix)
        row.last_error = None
        branch = row.branch
    assert branch is not None
    await task_note(ctx, run.id, task.ordinal, None)
    await publish_run(ctx, repo.api, run.id)

    base = await repo.base_branch()
    await repo.base_sha(base)
    # Checking out a big repository takes seconds (git, its own process): let it run while
    # the repository map is loaded and the prompt planned.
    checkout = asyncio.create_task(
        asyncio.to_thread(
            workspace.add_worktree,
            repo.repo_ref(),
            branch=branch,
            base=base,
            sparse=not config.formatter,  # a formatter may need the whole tree
        )
    )
    try:
        # Vetting overrides renders them: off the event loop, like the plan below.
        library = await asyncio.to_thread(PromptLibrary, await repo.prompt_overrides())
        repo_map = await repo.repo_map()
        # The text a maintainer approved, never edits made since (dependent, throttled and
        # retried tasks run long after the label).
        title, body = approved_text(run, issue.title, issue.body)
        text = IssueText(repo.full_name, task.issue_number, title, body, issue.labels)
        planned = stored_task(task)
        # All of the run's tasks, so the prompt says "task N of M" and names the others.
        siblings = await run_planned_tasks(ctx, run.id) or [planned]
        ranked = await llm_ranking(
            ctx, task_id, repo.installation_id, config, choice, repo_map, text, planned
        )
        tp = await asyncio.to_thread(
            partial(plan_task, ranked=ranked),
            text,
            planned,
            siblings,
            repo_map,
            library,
            config,
            model=choice.model,
        )
    except BaseException:
        await discard_checkout(repo, checkout)
        raise
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
    await run_attempt(ctx, repo, task_id, config, choice, job_id, spec, checkout=checkout)


async def _adopt_open_pull(
    ctx: HandlerContext, repo: RepoAccess, task: Task, run: IssueRun, cause: str
) -> bool:
    """A worker died after opening the PR but before recording it: take that PR as this
    task's instead of asking the LLM again (which would cost money and change the branch),
    with the label and review request the dead worker may not have added."""
    assert task.branch
    pr = await repo.api.find_open_pull(repo.owner, repo.name, task.branch)
    if pr is None:
        return False
    await dress_pull(repo, run, pr.number)
    async with ctx.sessions() as session, session.begin():
        row = await session.get(Task, task.id)
        assert row is not None
        row.pr_number = pr.number
        row.pr_opened_at = row.pr_opened_at or utcnow()
        row.last_error = None
        await apply_event(session, row, TaskEvent.PR_OPENED, cause)
        await record_stage(session, "pr_opened", f"#{pr.number} (found again)", task_id=task.id)
    return True
