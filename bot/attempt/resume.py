"""A fix or review attempt run again after its job died (killed, timed out, lease expired).

Before it pushes, an attempt records its commit under its job (`record_commit`). Run again,
the job reconciles with what reached GitHub: if its commit is on the branch, the attempt is
over and is recorded as pushed, without asking the model again (which would cost money and,
with the change already on the branch, fail or apply it twice); if not, the task's head goes
back to what the branch holds, and the attempt runs again.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.lifecycle import TaskEvent
from bot.git import remote as git_remote
from bot.repo.access import RepoAccess
from bot.report.notes import task_note
from bot.report.publish import publish_task
from bot.runtime import HandlerContext
from bot.store.models import Attempt, Event, Task, utcnow
from bot.store.tasks import applied_by, apply_event, record_stage

COMMITTED = "committed"


async def record_commit(session: AsyncSession, task: Task, commit: str, job_id: int) -> None:
    """The attempt's commit, made by `job_id`, is about to be pushed (the caller's
    transaction also makes it the task's head)."""
    task.head_sha = commit
    await record_stage(session, COMMITTED, commit, task_id=task.id, job_id=job_id)


async def _committed_by(ctx: HandlerContext, task_id: int, job_id: int) -> str | None:
    async with ctx.sessions() as session:
        found = await session.execute(
            select(Event.message)
            .where(Event.task_id == task_id, Event.job_id == job_id, Event.stage == COMMITTED)
            .order_by(Event.id.desc())
            .limit(1)
        )
        return found.scalars().first()


async def finish_if_pushed(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, job_id: int, success: TaskEvent
) -> bool:
    """True when this job already pushed its commit: the task moves by `success` and the
    attempt the dead run started is recorded as a success. False when there is nothing to
    take over (the attempt must run, again or for the first time)."""
    commit = await _committed_by(ctx, task_id, job_id)
    if commit is None:
        return False
    await repo.meta()  # still the repository the work belongs to (else RepositoryReplaced)
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
    if task is None or not task.branch:
        return False
    remote = await asyncio.to_thread(
        git_remote.remote_branch_sha, repo.repo_ref(), task.branch, token=await repo.git_token()
    )
    async with ctx.sessions() as session, session.begin():
        row = await session.get(Task, task_id)
        assert row is not None
        if remote != commit:
            # Never pushed: the head is what the branch holds (its checks are the real ones).
            row.head_sha = remote or row.head_sha
            return False
        row.last_error = None
        await apply_event(session, row, success, f"job:{job_id}")
        await record_stage(
            session, "pushed_fix", f"#{row.pr_number} (found pushed again)", task_id=task_id
        )
        attempt = (
            await session.execute(
                select(Attempt)
                .where(Attempt.task_id == task_id, Attempt.finished_at.is_(None))
                .order_by(Attempt.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if attempt is not None:
            attempt.outcome, attempt.finished_at = "success", utcnow()
        run_id, ordinal = row.run_id, row.ordinal
    await task_note(ctx, run_id, ordinal, None)
    return True


async def show_what_it_did(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, job_id: int
) -> None:
    """A job that finds its task moved on: if it moved it itself (its first run ended the
    attempt, then died before the status comment and check run said so), show it now."""
    async with ctx.sessions() as session:
        moved = await applied_by(session, task_id, None, f"job:{job_id}")
    if moved:
        await repo.meta()  # never shown in a repository that took the name since
        await publish_task(ctx, repo, task_id)
