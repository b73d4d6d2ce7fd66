"""Task rows and their state changes. Every change goes through `core.lifecycle` and is
stored with its cause, applied or not, so `status` can explain any state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.lifecycle import TaskEvent, TaskState, transition
from bot.store.db import SessionFactory
from bot.store.models import Attempt, Event, IssueRun, Task, Transition, utcnow

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


async def applied_by(
    session: AsyncSession, task_id: int, event: TaskEvent | None, cause: str
) -> bool:
    """Whether `cause` (a comment, a delivery, a job) already moved the task by `event` (by
    any event when None). A job run again after a kill finds what it did the first time
    instead of doing it twice (or refusing, since the task has moved on)."""
    query = select(Transition.id).where(
        Transition.task_id == task_id,
        Transition.cause == cause,
        Transition.applied.is_(True),
    )
    if event is not None:
        query = query.where(Transition.event == str(event))
    return (await session.execute(query.limit(1))).first() is not None


def charge_task(
    session: AsyncSession,
    task: Task,
    *,
    installation_id: int | None,
    kind: str,
    provider: str | None,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float,
) -> Attempt:
    """A model call made for a task outside its attempts (localization, planning): on the
    task's totals, and as a finished attempt row of its `kind`, so the month's spend the
    installation's cap is checked against (and `issuewright stats`) counts it. The row is
    returned for its record (`store/attempt_records.py: record_call`)."""
    task.input_tokens += input_tokens
    task.output_tokens += output_tokens
    task.cost_usd += cost_usd
    now = utcnow()
    attempt = Attempt(
        task_id=task.id,
        installation_id=installation_id,
        kind=kind,
        provider=provider,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=cost_usd,
        outcome="done",
        started_at=now,
        finished_at=now,
    )
    session.add(attempt)
    return attempt


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


async def save_stage(
    sessions: SessionFactory,
    stage: str,
    message: str = "",
    *,
    task_id: int | None = None,
    delivery_id: str | None = None,
    job_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """`record_stage` in a transaction of its own, for a stage that is all a step writes."""
    async with sessions() as session, session.begin():
        await record_stage(
            session,
            stage,
            message,
            task_id=task_id,
            delivery_id=delivery_id,
            job_id=job_id,
            data=data,
        )


async def get_run(
    session: AsyncSession, repository_id: int | None, installation_id: int | None, number: int
) -> IssueRun | None:
    """The run of issue `number` in the repository with GitHub id `repository_id`, as seen by
    `installation_id`. Never by name: a deleted repository's name can be registered again by
    someone else, who must not see or steer the old tasks. Rows without an id match nothing."""
    if repository_id is None or installation_id is None:
        return None
    return (
        await session.execute(
            select(IssueRun).where(
                IssueRun.repository_id == repository_id,
                IssueRun.installation_id == installation_id,
                IssueRun.issue_number == number,
            )
        )
    ).scalar_one_or_none()


def _tasks_in(repository_id: int, installation_id: int) -> Select[Task]:
    return (
        select(Task)
        .join(IssueRun, IssueRun.id == Task.run_id)
        .where(Task.repository_id == repository_id, IssueRun.installation_id == installation_id)
    )


async def tasks_of(session: AsyncSession, run_id: int) -> Sequence[Task]:
    return (
        (await session.execute(select(Task).where(Task.run_id == run_id).order_by(Task.ordinal)))
        .scalars()
        .all()
    )


async def task_by_pr(
    session: AsyncSession, repository_id: int | None, installation_id: int | None, pr_number: int
) -> Task | None:
    if repository_id is None or installation_id is None:
        return None
    query = _tasks_in(repository_id, installation_id).where(Task.pr_number == pr_number)
    return (await session.execute(query)).scalars().first()


async def task_by_branch(
    session: AsyncSession, repository_id: int | None, installation_id: int | None, branch: str
) -> Task | None:
    if repository_id is None or installation_id is None:
        return None
    query = _tasks_in(repository_id, installation_id).where(Task.branch == branch)
    return (await session.execute(query)).scalars().first()


async def tasks_by_head(
    session: AsyncSession, repository_id: int | None, installation_id: int | None, sha: str
) -> Sequence[Task]:
    if repository_id is None or installation_id is None:
        return []
    query = _tasks_in(repository_id, installation_id).where(Task.head_sha == sha)
    return (await session.execute(query)).scalars().all()
