"""Follows a task's PR: checks, merges, closes, foreign pushes. Every change goes through
`core.lifecycle`; events for other PRs or stale SHAs are recorded and ignored."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from bot.core.checklist import tick_task_item
from bot.core.lifecycle import TaskEvent, TaskState
from bot.github import CheckRun
from bot.repo_access import RepoAccess
from bot.runs import enqueue_task_job, schedule_ready_tasks
from bot.runtime import HandlerContext
from bot.status import refresh_status
from bot.store.models import IssueRun, Task
from bot.taskstore import apply_event, record_stage, tasks_of

log = logging.getLogger(__name__)

FAILED_CONCLUSIONS = {
    "failure",
    "timed_out",
    "cancelled",
    "action_required",
    "startup_failure",
    "stale",
}
CHECK_RUN_NAME = "issuewright"


def summarize_checks(runs: Sequence[CheckRun]) -> tuple[str, str]:
    """("running" | "passed" | "failed", a short text for the status table)."""
    if not runs:
        return "running", "🔄 waiting"
    done = [r for r in runs if r.status == "completed"]
    failed = [r for r in done if (r.conclusion or "") in FAILED_CONCLUSIONS]
    if failed:
        return "failed", f"❌ {len(failed)}/{len(runs)} failed"
    if len(done) < len(runs):
        return "running", f"🔄 {len(done)}/{len(runs)}"
    return "passed", f"✅ {len(runs)}/{len(runs)}"


async def task_for_sha(
    ctx: HandlerContext, repository: str, sha: str, prs: Sequence[int]
) -> Task | None:
    async with ctx.sessions() as session:
        query = select(Task).where(Task.repository == repository, Task.head_sha == sha)
        if prs:
            query = query.where(Task.pr_number.in_(prs))
        return (await session.execute(query)).scalars().first()


async def ignore(ctx: HandlerContext, delivery_id: str, reason: str) -> None:
    async with ctx.sessions() as session, session.begin():
        await record_stage(session, "ignored", reason, delivery_id=delivery_id)


async def status(
    ctx: HandlerContext, repo: RepoAccess, run_id: int, message: str | None = None
) -> None:
    await refresh_status(
        ctx.sessions,
        repo.api,
        run_id,
        web_url=ctx.settings.github_web_url,
        bot_login=ctx.github.bot_login,
        message=message,
    )


async def on_checks(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, sha: str, cause: str
) -> None:
    """Re-read every check run on the head and move the task to running / passed / failed."""
    runs = [
        r
        for r in await repo.api.list_check_runs(repo.owner, repo.name, sha)
        if r.app_slug != ctx.settings.app_slug
    ]
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
        task.checks = text
        changed = await apply_event(session, task, event, cause)
        run_id = task.run_id
        if changed and event == TaskEvent.CHECKS_FAILED:
            if task.ci_fix_attempts < config.ci_fix_attempts and not task.push_blocked:
                await enqueue_task_job(session, task, "ci_fix")
                ctx.wake.set()
            else:
                task.last_error = (
                    f"checks failed and the {config.ci_fix_attempts} CI-fix attempt(s) are used "
                    "up; comment `/issuewright fix-ci` to try once more"
                )
                await apply_event(
                    session, task, TaskEvent.ATTEMPTS_EXHAUSTED, cause, reason=task.last_error
                )
    await status(ctx, repo, run_id)


async def on_merged(ctx: HandlerContext, repo: RepoAccess, task_id: int, cause: str) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        await apply_event(session, task, TaskEvent.MERGED, cause)
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
    await status(ctx, repo, run_id, message)


async def on_closed(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, event: TaskEvent, cause: str
) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        await apply_event(session, task, event, cause)
        run_id = task.run_id
    await status(ctx, repo, run_id)


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
        run_id = task.run_id
        run = await session.get(IssueRun, run_id)
        if run is not None:
            text = (
                f"Task {task.ordinal}: {who} pushed to `{task.branch}`, so the app stops pushing "
                f"to it. Comment `/issuewright retry task {task.ordinal}` to start again on a "
                "fresh branch."
            )
            if text not in (run.notes or []):
                run.notes = [*(run.notes or []), text]
    await status(ctx, repo, run_id)
