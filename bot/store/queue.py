"""Durable job queue in the app's own database.

A job commits in the same transaction as the delivery it belongs to, so an accepted delivery
always has its job. Workers claim with a lease (`claim.claim_next_job`, re-exported here),
extend it with heartbeats, and finish with complete / fail (backoff, then dead letter) / release.
A worker that dies leaves a lease that expires; `recover_expired_leases` puts the job back.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.lifecycle import TaskEvent

# Claiming lives in its own module; callers keep using `queue.claim_next_job`.
from bot.store.claim import CLAIM_LOCK_KEY as CLAIM_LOCK_KEY
from bot.store.claim import ClaimedJob as ClaimedJob
from bot.store.claim import claim_next_job as claim_next_job
from bot.store.db import SessionFactory
from bot.store.models import Delivery, IssueRun, Job, Task, utcnow
from bot.store.tasks import apply_event

BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 3600.0
ERROR_LIMIT = 4000
# The job that says on GitHub why a task stopped when its job was dead-lettered.
GAVE_UP_JOB = "task_gave_up"


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter over the upper half: 10 s, 20 s, 40 s … ≤ 1 h."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return ceiling / 2 + (rng or random).random() * ceiling / 2


def new_job(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    delivery_id: str | None = None,
    task_id: int | None = None,
    max_attempts: int = 5,
    run_after: datetime | None = None,
    concurrency_key: str | None = None,
    installation_id: int | None = None,
) -> Job:
    now = utcnow()
    return Job(
        kind=kind,
        payload=payload or {},
        delivery_id=delivery_id,
        task_id=task_id,
        concurrency_key=concurrency_key,
        installation_id=installation_id,
        status="queued",
        attempts=0,
        max_attempts=max_attempts,
        run_after=run_after or now,
        created_at=now,
    )


async def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any] | None = None, **kw: Any
) -> Job:
    """Add a job inside the caller's transaction (the caller commits). A task's job belongs
    to the installation of the task's run unless the caller says otherwise."""
    if kw.get("installation_id") is None and kw.get("task_id") is not None:
        kw["installation_id"] = (
            await session.execute(
                select(IssueRun.installation_id)
                .join(Task, Task.run_id == IssueRun.id)
                .where(Task.id == kw["task_id"])
            )
        ).scalar_one_or_none()
    job = new_job(kind, payload, **kw)
    session.add(job)
    await session.flush()
    return job


async def heartbeat(
    sessions: SessionFactory, job_id: int, worker_id: str, lease_seconds: float
) -> bool:
    """Extend the lease. False when the job is no longer ours (lease expired and re-claimed)."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == "running")
            .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def complete(sessions: SessionFactory, job: ClaimedJob, worker_id: str) -> bool:
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == worker_id, Job.status == "running")
            .values(status="done", finished_at=utcnow(), lease_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        owned = bool(result.rowcount)  # type: ignore[attr-defined]
        if owned and job.delivery_id and job.kind == "delivery":
            await _set_delivery_status(session, job.delivery_id, "done", None, only_from="queued")
    return owned


async def fail(
    sessions: SessionFactory,
    job: ClaimedJob,
    worker_id: str,
    error: str,
    *,
    retryable: bool = True,
    rng: random.Random | None = None,
) -> str:
    """Record a failure. Returns the job's new status: "queued" (retry later) or "dead"."""
    error = error[:ERROR_LIMIT]
    dead = not retryable or job.attempts >= job.max_attempts
    now = utcnow()
    values: dict[str, Any] = {"last_error": error, "lease_until": None, "locked_by": None}
    if dead:
        values.update(status="dead", finished_at=now)
    else:
        values.update(
            status="queued", run_after=now + timedelta(seconds=backoff_seconds(job.attempts, rng))
        )
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == worker_id, Job.status == "running")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        owned = bool(result.rowcount)  # type: ignore[attr-defined]
        if dead and owned and job.delivery_id and job.kind == "delivery":
            await _set_delivery_status(session, job.delivery_id, "dead", error)
        if dead and owned and job.task_id is not None:
            await give_up_task(session, job.id, job.task_id, job.kind)
    return "dead" if dead else "queued"


async def release(sessions: SessionFactory, job: ClaimedJob, worker_id: str) -> None:
    """Give a job back unfinished (shutdown): it runs again soon, the attempt not counted."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == worker_id, Job.status == "running")
            .values(
                status="queued",
                attempts=Job.attempts - 1,
                lease_until=None,
                locked_by=None,
            )  # run_after untouched: it keeps its place, ahead of what was queued after it
            .execution_options(synchronize_session=False)
        )


async def recover_expired_leases(sessions: SessionFactory, now: datetime | None = None) -> int:
    """Jobs whose worker vanished go back to the queue (or to the dead letter when their
    attempts are used up). Returns how many were recovered."""
    now = now or utcnow()
    async with sessions() as session, session.begin():
        dead_rows = (
            await session.execute(
                update(Job)
                .where(
                    Job.status == "running", Job.lease_until < now, Job.attempts >= Job.max_attempts
                )
                .values(
                    status="dead",
                    finished_at=now,
                    lease_until=None,
                    last_error=func.coalesce(Job.last_error + "; ", "")
                    + "worker lost (lease expired)",
                )
                .returning(Job.id, Job.delivery_id, Job.kind, Job.task_id)
                .execution_options(synchronize_session=False)
            )
        ).all()
        for job_id, delivery_id, kind, task_id in dead_rows:
            if delivery_id and kind == "delivery":
                await _set_delivery_status(
                    session, delivery_id, "dead", "worker lost (lease expired)"
                )
            if task_id is not None:
                await give_up_task(session, job_id, task_id, kind)
        requeued = await session.execute(
            update(Job)
            .where(Job.status == "running", Job.lease_until < now)
            # run_after untouched: the job keeps its place in the queue (it was due when it
            # was claimed) instead of waiting behind the whole backlog.
            .values(status="queued", lease_until=None, locked_by=None)
            .execution_options(synchronize_session=False)
        )
    return len(dead_rows) + (requeued.rowcount or 0)  # type: ignore[attr-defined]


async def give_up_task(session: AsyncSession, job_id: int, task_id: int, kind: str) -> None:
    """The task's job `job_id` was just dead-lettered (timed out every try, its worker lost,
    a permanent error). Unless another job of the task carries on, the task must not stay
    queued, generating or fixing, where `retry` is refused for good: it fails, and a
    `GAVE_UP_JOB` job shows why on the status comment and the check run. In the transaction
    that dead-letters the job, so neither happens without the other."""
    task = await session.get(Task, task_id)
    if task is None:
        return
    carried_on = await session.execute(
        select(Job.id)
        .where(Job.task_id == task_id, Job.id != job_id, Job.status.in_(("queued", "running")))
        .limit(1)
    )
    if carried_on.first() is not None:
        return
    reason = f"the {kind} job gave up (job {job_id})"
    if await apply_event(session, task, TaskEvent.JOB_GAVE_UP, f"job:{job_id}", reason=reason):
        task.last_error = f"{reason}. Comment `/issuewright retry` to try again."
        await enqueue(session, GAVE_UP_JOB, {"task_id": task_id, "job_id": job_id}, task_id=task_id)


async def replay_delivery(sessions: SessionFactory, delivery_id: str, max_attempts: int = 5) -> int:
    """Enqueue a stored delivery again. Returns the new job id; raises LookupError if unknown."""
    async with sessions() as session, session.begin():
        delivery = (
            await session.execute(select(Delivery).where(Delivery.delivery_id == delivery_id))
        ).scalar_one_or_none()
        if delivery is None:
            raise LookupError(f"no delivery with id {delivery_id!r}")
        delivery.status = "queued"
        delivery.reason = None
        job = await enqueue(
            session,
            "delivery",
            delivery_id=delivery_id,
            max_attempts=max_attempts,
            concurrency_key=_concurrency_key(delivery),
            installation_id=delivery.installation_id,
        )
        return job.id


def _concurrency_key(delivery: Delivery) -> str | None:
    """The same key the receiver gives a delivery: its repository and issue or PR number."""
    try:
        data = json.loads(delivery.payload)
    except ValueError:
        return None
    for name in ("issue", "pull_request"):
        item = data.get(name) if isinstance(data, dict) else None
        if isinstance(item, dict) and isinstance(item.get("number"), int) and delivery.repository:
            return f"{delivery.repository}#{item['number']}"
    return None


async def _set_delivery_status(
    session: AsyncSession,
    delivery_id: str,
    status: str,
    reason: str | None,
    only_from: str | None = None,
) -> None:
    statement = update(Delivery).where(Delivery.delivery_id == delivery_id)
    if only_from:
        statement = statement.where(Delivery.status == only_from)
    await session.execute(
        statement.values(status=status, reason=reason).execution_options(synchronize_session=False)
    )


async def mark_delivery(
    sessions: SessionFactory, delivery_id: str, status: str, reason: str
) -> None:
    """Record that a delivery was not acted on, and why (suspended installation, …)."""
    async with sessions() as session, session.begin():
        await _set_delivery_status(session, delivery_id, status, reason)
