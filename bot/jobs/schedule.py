"""Turning ready tasks into jobs: queue what can start, block what waits, cancel what has not
started. Used by planning, the tracker (a merge unblocks dependents) and comment commands."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update

from bot.core.lifecycle import TaskEvent, TaskState
from bot.runtime import HandlerContext
from bot.store import queue
from bot.store.models import Job, Task, utcnow
from bot.store.tasks import applied_by, apply_event, tasks_of

GENERATION_KINDS = ("generate", "ci_fix", "review")


async def enqueue_task_job(
    session: Any, task: Task, kind: str = "generate", **payload: Any
) -> bool:
    """Queue a generation job for the task unless one is already waiting."""
    pending = (
        await session.execute(
            select(Job.id).where(
                Job.task_id == task.id, Job.status == "queued", Job.kind.in_(GENERATION_KINDS)
            )
        )
    ).first()
    if pending is not None:
        return False
    await queue.enqueue(session, kind, {"task_id": task.id, **payload}, task_id=task.id)
    return True


async def job_of_cause(session: Any, task_id: int, kind: str, cause: str) -> bool:
    """Whether `cause` (a command's comment) already queued a `kind` job for the task, which
    may have run since: a command run again after a kill must not queue a second one."""
    payloads = await session.execute(
        select(Job.payload).where(Job.task_id == task_id, Job.kind == kind)
    )
    return any((payload or {}).get("cause") == cause for payload in payloads.scalars())


async def schedule_ready_tasks(
    ctx: HandlerContext, run_id: int, cause: str, *, revive: Collection[str] = ()
) -> int:
    """planned tasks → queued, or blocked while a dependency is not merged; queued tasks get
    a generation job. Cancelled tasks come back only when their key is in `revive` (a
    re-label names the issue's current tasks): a merge elsewhere must not undo a cancel."""
    queued = 0
    async with ctx.sessions() as session, session.begin():
        tasks = await tasks_of(session, run_id)
        by_ordinal = {t.ordinal: t for t in tasks}
        for task in tasks:
            waiting = [
                d
                for d in task.depends_on or []
                if d in by_ordinal and by_ordinal[d].state != TaskState.MERGED
            ]
            if task.state == TaskState.CANCELLED and task.key in revive:
                await apply_event(session, task, TaskEvent.RETRY, cause)
            if task.state == TaskState.BLOCKED and not waiting:
                await apply_event(session, task, TaskEvent.UNBLOCK, cause)
            elif task.state in {TaskState.PLANNED, TaskState.QUEUED} and waiting:
                await apply_event(
                    session, task, TaskEvent.BLOCK, cause, reason=f"waits for task {waiting}"
                )
            elif task.state == TaskState.PLANNED:
                await apply_event(session, task, TaskEvent.ENQUEUE, cause)
            if task.state == TaskState.QUEUED and await enqueue_task_job(session, task):
                queued += 1
    if queued:
        ctx.wake.set()
    return queued


async def cancel_not_started(
    ctx: HandlerContext, run_id: int, cause: str, event: TaskEvent
) -> list[int]:
    """Cancel the run's tasks that have not started generating; drop their queued jobs.
    Tasks `cause` cancelled already (its job run again after a kill) count as cancelled."""
    cancelled = []
    async with ctx.sessions() as session, session.begin():
        for task in await tasks_of(session, run_id):
            if await applied_by(session, task.id, event, cause) or await apply_event(
                session, task, event, cause
            ):
                cancelled.append(task.ordinal)
                await drop_queued_jobs(session, task)
    return cancelled


async def drop_queued_jobs(session: Any, task: Task) -> None:
    await session.execute(
        update(Job)
        .where(Job.task_id == task.id, Job.status == "queued")
        .values(status="cancelled", finished_at=utcnow())
    )
