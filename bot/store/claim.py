"""Claiming the next job: the one query that decides which queued job runs next.

A claim is one `UPDATE … RETURNING` on the oldest runnable job. Runnable means due, and
nothing it must not run beside is running: another job of its task, another delivery of its
issue or PR, or (with a cap) too many jobs of its installation. On PostgreSQL the candidate
row is picked `FOR UPDATE SKIP LOCKED`, and claims take one advisory lock in turn (see below).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.orm import aliased

from bot.store.db import SessionFactory
from bot.store.models import Job, utcnow

# Transaction-scoped PostgreSQL advisory lock taken by every claim (see claim_next_job).
CLAIM_LOCK_KEY = 74657572


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    delivery_id: str | None
    task_id: int | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    installation_id: int | None = None


async def claim_next_job(
    sessions: SessionFactory,
    worker_id: str,
    lease_seconds: float,
    now: datetime | None = None,
    *,
    installation_cap: int | None = None,
) -> ClaimedJob | None:
    """Claim the oldest runnable job, or None. Jobs of a task that already has a running job
    wait, so one task never has two jobs (and two pushes) at once; likewise deliveries that
    share a concurrency key (one issue or PR) run one after the other, in order. With
    `installation_cap`, jobs of an installation that already has that many running wait too,
    so one tenant cannot take every worker slot."""
    now = now or utcnow()
    busy = aliased(Job)
    runnable = (
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
    )
    if installation_cap is not None:
        running_here = (
            select(func.count())
            .select_from(busy)
            .where(busy.installation_id == Job.installation_id, busy.status == "running")
            .scalar_subquery()
        )
        runnable = runnable.where(
            or_(Job.installation_id.is_(None), running_here < installation_cap)
        )
    candidate = (
        runnable.order_by(Job.run_after, Job.id)
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
            Job.installation_id,
        )
        .execution_options(synchronize_session=False)
    )
    async with sessions() as session, session.begin():
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            # The "nothing of this task / key / installation is running" checks read other
            # rows, which SKIP LOCKED does not guard: under READ COMMITTED two workers could
            # each see the other's claim as not yet running. Claims are one short statement,
            # so taking them in turn costs little and makes every check exact. (SQLite runs
            # one writer at a time already.)
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK_KEY})"))
        row = (await session.execute(statement)).first()
    if row is None:
        return None
    return ClaimedJob(*row)
