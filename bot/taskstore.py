"""Task rows and their state changes. Every change goes through `core.lifecycle` and is
stored with its cause, applied or not, so `status` can explain any state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.lifecycle import TaskEvent, TaskState, transition
from bot.store.models import Event, IssueRun, Task, Transition, utcnow

log = logging.getLogger(__name__)


async def apply_event(
    session: AsyncSession,
    task: Task,
    event: TaskEvent,
    cause: str,
    *,
    reason: str | None = None,
) -> bool:
    """Move `task` by `event` if the table allows it; record the attempt either way.
    Returns whether the state changed (or the event was applied in place)."""
    result = transition(TaskState(task.state), event, push_blocked=task.push_blocked)
    session.add(
        Transition(
            task_id=task.id,
            event=str(event),
            from_state=task.state,
            to_state=str(result.new_state),
            applied=result.applied,
            cause=cause,
            reason=reason if result.applied else (result.reason or reason),
        )
    )
    if not result.applied:
        log.info(
            "task %s: %s ignored in %s (%s)",
            task.key,
            event,
            task.state,
            result.reason,
            extra={"task_id": task.id},
        )
        return False
    task.state = str(result.new_state)
    if result.push_blocked is not None:
        task.push_blocked = result.push_blocked
    task.updated_at = utcnow()
    log.info(
        "task %s: %s → %s (%s)", task.key, event, task.state, cause, extra={"task_id": task.id}
    )
    return True


async def record_stage(
    session: AsyncSession,
    stage: str,
    message: str = "",
    *,
    task_id: int | None = None,
    delivery_id: str | None = None,
    job_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """A pipeline stage as an event row and a structured log line."""
    session.add(
        Event(
            task_id=task_id,
            delivery_id=delivery_id,
            job_id=job_id,
            stage=stage,
            message=message,
            data=data or {},
        )
    )
    log.info(
        "%s: %s",
        stage,
        message,
        extra={"task_id": task_id, "delivery_id": delivery_id, "job_id": job_id},
    )


async def get_run(session: AsyncSession, repository: str, issue_number: int) -> IssueRun | None:
    return (
        await session.execute(
            select(IssueRun).where(
                IssueRun.repository == repository, IssueRun.issue_number == issue_number
            )
        )
    ).scalar_one_or_none()


async def tasks_of(session: AsyncSession, run_id: int) -> Sequence[Task]:
    return (
        (await session.execute(select(Task).where(Task.run_id == run_id).order_by(Task.ordinal)))
        .scalars()
        .all()
    )


async def task_by_pr(session: AsyncSession, repository: str, pr_number: int) -> Task | None:
    return (
        await session.execute(
            select(Task).where(Task.repository == repository, Task.pr_number == pr_number)
        )
    ).scalar_one_or_none()


async def task_by_branch(session: AsyncSession, repository: str, branch: str) -> Task | None:
    return (
        await session.execute(
            select(Task).where(Task.repository == repository, Task.branch == branch)
        )
    ).scalar_one_or_none()
