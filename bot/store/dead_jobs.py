"""Replaying a dead-lettered job: the dashboard's replay button (a delivery's job can also be
replayed by delivery id, `queue.replay_delivery`, as `issuewright replay` does)."""

from __future__ import annotations

from sqlalchemy import update

from bot.store.db import SessionFactory
from bot.store.models import Delivery, Job, utcnow


async def requeue_dead_job(sessions: SessionFactory, job_id: int) -> bool:
    """Put dead job `job_id` back in the queue with a fresh count of attempts, to run now; its
    delivery, if it has one, is queued again too. False when there is no such dead job (a
    second click, or a job that is not dead): nothing changes then."""
    async with sessions() as session, session.begin():
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.status != "dead":
            return False
        job.status, job.attempts, job.run_after = "queued", 0, utcnow()
        job.lease_until = job.locked_by = job.finished_at = None
        if job.delivery_id:
            await session.execute(
                update(Delivery)
                .where(Delivery.delivery_id == job.delivery_id)
                .values(status="queued", reason=None)
                .execution_options(synchronize_session=False)
            )
        return True
