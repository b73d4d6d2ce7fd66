"""A job given back (lease expired, or released at shutdown) keeps its place in the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import utcnow


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def _enqueue(db: SessionFactory, n: int) -> list[int]:
    async with db() as session, session.begin():
        return [(await queue.enqueue(session, "count", {"n": i})).id for i in range(n)]


@pytest.mark.parametrize("given_back", ["lease expired", "released"])
async def test_a_job_given_back_runs_before_jobs_queued_after_it(
    database_url: str, db: SessionFactory, given_back: str
) -> None:
    first, *_ = await _enqueue(db, 3)
    job = await queue.claim_next_job(db, "lost", 30)
    assert job is not None and job.id == first
    backlog = await _enqueue(db, 20)  # arrived while the first job was out
    if given_back == "released":
        await queue.release(db, job, "lost")
    else:
        later = utcnow() + timedelta(seconds=31)
        assert await queue.recover_expired_leases(db, now=later) == 1
    again = await queue.claim_next_job(db, "next", 30, now=utcnow() + timedelta(seconds=32))
    assert again is not None and again.id == first, backlog
