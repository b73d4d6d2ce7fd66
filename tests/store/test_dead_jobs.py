"""Replaying a dead job (the dashboard's replay button), on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.store.db import make_engine, make_session_factory
from bot.store.dead_jobs import requeue_dead_job
from bot.store.models import Delivery, Job


async def test_a_dead_job_and_its_delivery_are_queued_again_once(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            session.add(
                Delivery(delivery_id="d1", event="issues", payload="{}", status="dead", reason="x")
            )
            dead = Job(
                kind="delivery",
                delivery_id="d1",
                payload={},
                status="dead",
                attempts=5,
                max_attempts=5,
                lease_until=None,
                last_error="boom",
            )
            done = Job(kind="generate", task_id=7, payload={}, status="done", attempts=1)
            session.add_all([dead, done])
            await session.flush()
            dead_id, done_id = dead.id, done.id

        assert await requeue_dead_job(sessions, dead_id)
        assert not await requeue_dead_job(sessions, dead_id)  # a second click changes nothing
        assert not await requeue_dead_job(sessions, done_id)
        assert not await requeue_dead_job(sessions, 999_999)

        async with sessions() as session:
            job = await session.get(Job, dead_id)
            other = await session.get(Job, done_id)
            delivery = await session.get(Delivery, 1)
        assert (job.status, job.attempts, job.finished_at) == ("queued", 0, None)
        assert other.status == "done"
        assert (delivery.status, delivery.reason) == ("queued", None)
    finally:
        await engine.dispose()
