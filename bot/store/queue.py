"""Durable job queue in the app's own database.

A job commits in the same transaction as the delivery it belongs to, so an accepted delivery
always has its job. Workers claim with a lease (one `UPDATE … RETURNING`; on PostgreSQL the
candidate row is picked `FOR UPDATE SKIP LOCKED` so workers never wait on each other), extend
it with heartbeats, and finish with complete / fail (backoff, then dead letter) / release.
A worker that dies leaves a lease that expires; `recover_expired_leases` puts the job back.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.store.db import SessionFactory
from bot.store.models import Delivery, Job, utcnow

BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 3600.0
ERROR_LIMIT = 4000


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    delivery_id: str | None
    task_id: int | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


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
) -> Job:
    now = utcnow()
    return Job(
        kind=kind,
        payload=payload or {},
        delivery_id=delivery_id,
        task_id=task_id,
        concurrency_key=concurrency_key,
        status="queued",
        attempts=0,
        max_attempts=max_attempts,
        run_after=run_after or now,
        created_at=now,
    )


async def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any] | None = None, **kw: Any
) -> Job:
    """Add a job inside the caller's transaction (the caller commits)."""
    job = new_job(kind, payload, **kw)
    session.add(job)
    await session.flush()
    return job


async def claim_next_job(
    sessions: SessionFactory, worker_id: str, lease_seconds: float, now: datetime | None = None
) -> ClaimedJob | None:
    """Claim the oldest runnable job, or None. Jobs of a task that already has a running job
    wait, so one task never has two jobs (and two pushes) at once; likewise deliveries that
    share a concurrency key (one issue or PR) run one after the other, in order."""
    now = now or utcnow()
    busy = aliased(Job)
    candidate = (
        select(Job.id)
        .where(Job.status == "queued", Job.run_after <= now)
        .where(
            or_(
                Job.task_id.is_(None),
                ~exists().where(and_(busy.task_id == Job.task_id, busy.status == "running")),
            )
        )
        .where(
            or_(
                Job.concurrency_key.is_(None),
                ~exists().where(
                    and_(busy.concurrency_key == Job.concurrency_key, busy.status == "running")
                ),
            )
        )
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Job)
        .where(Job.id == candidate, Job.status == "queued")
        .values(
            status="running",
            attempts=Job.attempts + 1,
            locked_by=worker_id,
            lease_until=now + timedelta(seconds=lease_seconds),
            started_at=now,
        )
        .returning(
            Job.id,
            Job.kind,
            Job.delivery_id,
            Job.task_id,
            Job.payload,
            Job.attempts,
            Job.max_attempts,
        )
        .execution_options(synchronize_session=False)
    )
    async with sessions() as session, session.begin():
        row = (await session.execute(statement)).first()
    if row is None:
        return None
    return ClaimedJob(*row)


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
        if dead and result.rowcount and job.delivery_id and job.kind == "delivery":  # type: ignore[attr-defined]
            await _set_delivery_status(session, job.delivery_id, "dead", error)
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
                run_after=utcnow(),
            )
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
                    last_error=func.coalesce(Job.last_error, "") + "worker lost (lease expired)",
                )
                .returning(Job.delivery_id, Job.kind)
                .execution_options(synchronize_session=False)
            )
        ).all()
        for delivery_id, kind in dead_rows:
            if delivery_id and kind == "delivery":
                await _set_delivery_status(
                    session, delivery_id, "dead", "worker lost (lease expired)"
                )
        requeued = await session.execute(
            update(Job)
            .where(Job.status == "running", Job.lease_until < now)
            .values(status="queued", lease_until=None, locked_by=None, run_after=utcnow())
            .execution_options(synchronize_session=False)
        )
    return len(dead_rows) + (requeued.rowcount or 0)  # type: ignore[attr-defined]


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
