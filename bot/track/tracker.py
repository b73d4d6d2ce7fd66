"""Follows a task's PR: checks, merges, closes, foreign pushes, and what happens after an
attempt on the branch. Every change goes through `core.lifecycle`; events for other PRs or
stale SHAs are recorded and ignored. After each change the status comment and the task's
`issuewright` check run are brought up to date."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.checklist import tick_task_item
from bot.core.checks import latest_runs, summarize_checks
from bot.core.failure_notice import ci_fix_queued, ci_fix_used_up
from bot.core.lifecycle import TaskEvent, TaskState
from bot.github import CheckRun
from bot.jobs.schedule import enqueue_task_job, schedule_ready_tasks
from bot.repo.access import RepoAccess
from bot.report.notes import drop_task_notes
from bot.report.publish import publish_task
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, Task
from bot.store.tasks import apply_event, save_stage, tasks_by_head, tasks_of

log = logging.getLogger(__name__)


async def task_for_sha(
    ctx: HandlerContext,
    repository_id: int | None,
    installation_id: int | None,
    sha: str,
    prs: Sequence[int],
) -> Task | None:
    """The task whose head is `sha` in this repository (by id) and installation. The sha
    decides; the PR numbers only break a tie: a check event may name no PR yet (it can arrive
    before the app stored its PR number)."""
    async with ctx.sessions() as session:
        found = await tasks_by_head(session, repository_id, installation_id, sha)
    return next((t for t in found if t.pr_number in prs), found[0] if found else None)


async def ignore(ctx: HandlerContext, delivery_id: str, reason: str) -> None:
    await save_stage(ctx.sessions, "ignored", reason, delivery_id=delivery_id)


async def ci_runs(ctx: HandlerContext, repo: RepoAccess, sha: str) -> list[CheckRun]:
    """The check runs of CI on a commit: not the app's own mirror of the task."""
    runs = await repo.api.list_check_runs(repo.owner, repo.name, sha)
    return latest_runs(runs, ctx.settings.app_slug)


async def on_checks(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, sha: str, cause: str
) -> None:
    """Re-read every check run on the head and move the task to running / passed / failed."""
    runs = await ci_runs(ctx, repo, sha)
    outcome, text = summarize_checks(runs)
    event = {
        "running": TaskEvent.CHECKS_STARTED,
        "passed": TaskEvent.CHECKS_SUCCEEDED,
        "failed": TaskEvent.CHECKS_FAILED,
    }[outcome]
    config, _ = await repo.config()
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        if task.head_sha != sha:
            return  # a newer commit arrived meanwhile; its own events count
        task.checks = text
        changed = await apply_event(session, task, event, cause)
        if changed and event == TaskEvent.CHECKS_SUCCEEDED:
            task.last_error = None
        if changed and event == TaskEvent.CHECKS_FAILED:
            await _after_failure(ctx, session, task, config.ci_fix_attempts, cause)
    await publish_task(ctx, repo, task_id)


async def _after_failure(
    ctx: HandlerContext, session: AsyncSession, task: Task, allowed: int, cause: str
) -> None:
    """Checks failed (or a CI-fix attempt produced nothing): try again while attempts remain."""
    if task.push_blocked:
        # Whoever pushed to the branch owns it now; "attempts used up" would be untrue.
        task.last_error = (
            "checks failed; someone else pushed to the branch, so the app does not try to fix "
            f"it. Comment `/issuewright retry task {task.ordinal}` to start on a fresh branch."
        )
    elif task.ci_fix_attempts < allowed:
        # Said in core.failure_notice's words, so every surface shows the attempts left.
        task.last_error = ci_fix_queued(task.ci_fix_attempts + 1, allowed)
        await enqueue_task_job(session, task, "ci_fix")
        ctx.wake.set()
    else:
        task.last_error = ci_fix_used_up(allowed)
        await apply_event(
            session, task, TaskEvent.ATTEMPTS_EXHAUSTED, cause, reason=task.last_error
        )


async def after_attempt(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, kind: str, cause: str
) -> None:
    """An attempt on the task's branch (CI fix or review feedback) has ended."""
    pull = None
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        if task is None:
            return
        if task.state == TaskState.FIXING:
            # The attempt's job is over (one job per task), so nothing is fixing any more: an
            # outcome the table refused in `fixing` (say generation_failed) must not strand it.
            await apply_event(session, task, TaskEvent.FIX_FAILED, cause, reason=task.last_error)
    if task.state == TaskState.CHECKS_FAILED and task.pr_number:
        # The attempt pushed nothing: the PR's head is what GitHub says, not the commit the
        # attempt made and recorded before its push was refused.
        pull = await repo.api.get_pull(repo.owner, repo.name, task.pr_number)
    config, _ = await repo.config()
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        if pull is not None and pull.head_sha:
            task.head_sha = pull.head_sha
        if task.state == TaskState.CHECKS_FAILED and kind == "ci_fix":
            await _after_failure(ctx, session, task, config.ci_fix_attempts, cause)
        if task.state == TaskState.PR_OPEN:
            await drop_task_notes(session, task)  # it pushed: earlier trouble is history
        sha, state = task.head_sha, task.state
    if sha and state in (TaskState.PR_OPEN, TaskState.CHECKS_FAILED):
        # CI may already have reported on the new head while the attempt was still running
        # (those events are refused in `fixing`), and a failed review attempt must not leave
        # the task claiming its checks failed: read the checks again.
        if await ci_runs(ctx, repo, sha):
            await on_checks(ctx, repo, task_id, sha, cause)
            return
    await publish_task(ctx, repo, task_id)


async def on_merged(ctx: HandlerContext, repo: RepoAccess, task_id: int, cause: str) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        if await apply_event(session, task, TaskEvent.MERGED, cause):
            task.last_error = None
            await drop_task_notes(session, task)
        run_id, ordinal, number = task.run_id, task.ordinal, task.issue_number
    issue = await repo.api.get_issue(repo.owner, repo.name, number)
    ticked = tick_task_item(issue.body, ordinal)
    if ticked is not None:
        await repo.api.update_issue_body(repo.owner, repo.name, number, ticked)
    await schedule_ready_tasks(ctx, run_id, cause)
    async with ctx.sessions() as session:
        tasks = await tasks_of(session, run_id)
    message = None
    if tasks and all(t.state == TaskState.MERGED for t in tasks):
        message = f"🎉 All {len(tasks)} task(s) of this issue are merged."
    await publish_task(ctx, repo, task_id, message)


async def on_closed(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, event: TaskEvent, cause: str
) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        await apply_event(session, task, event, cause)
    await publish_task(ctx, repo, task_id)


async def on_foreign_push(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, sha: str, who: str, cause: str
) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        await apply_event(
            session,
            task,
            TaskEvent.FOREIGN_COMMIT,
            cause,
            reason=f"{who} pushed {sha[:12]} to {task.branch}",
        )
        # The task keeps following its PR (checks, reviews, the merge), now at this head.
        task.head_sha = sha
        run = await session.get(IssueRun, task.run_id)
        if run is not None:
            text = (
                f"Task {task.ordinal}: {who} pushed to `{task.branch}`, so the app stops pushing "
                f"to it. Comment `/issuewright retry task {task.ordinal}` to start again on a "
                "fresh branch."
            )
            if text not in (run.notes or []):
                run.notes = [*(run.notes or []), text]
    await publish_task(ctx, repo, task_id)
