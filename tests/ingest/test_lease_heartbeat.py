"""A short lease stays alive while a healthy worker runs a slow job (issue 12, cause 4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.jobs.dispatch import Router
from bot.jobs.worker import Worker
from bot.runtime import HandlerContext
from bot.settings import Settings
from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import Job, utcnow


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def test_a_slow_job_keeps_a_short_lease_and_runs_once(
    database_url: str, db: SessionFactory
) -> None:
    async with db() as session, session.begin():
        job_id = (await queue.enqueue(session, "slow")).id
    release, started = asyncio.Event(), asyncio.Event()
    runs: list[int] = []
    router = Router()

    @router.job("slow")
    async def slow(ctx: HandlerContext, payload: dict[str, Any], jid: int) -> None:
        runs.append(jid)
        started.set()
        await release.wait()  # a slow GitHub call: ends when the test has seen enough beats

    lease = 3  # below the settings' minimum on purpose: the beat must follow the lease
    worker = Worker(
        HandlerContext(
            settings=Settings(database_url=database_url, job_lease_seconds=lease), sessions=db
        ),
        router,
    )
    worker.start()
    try:
        await started.wait()  # from here on the job is the worker's; nobody else may take it
        leases: list[Any] = []
        # Watch the row until the lease has been renewed three times; a second worker keeps
        # trying to recover and claim it meanwhile, as a busy deployment would.
        while len(set(leases)) < 4:
            async with db() as session:
                row = (await session.execute(select(Job).where(Job.id == job_id))).scalar_one()
            if row.status == "running":
                assert row.lease_until is not None
                until = row.lease_until.replace(tzinfo=None)  # SQLite gives naive UTC back
                assert until > utcnow().replace(tzinfo=None), "the lease ran out under a worker"
                leases.append(row.lease_until)
            await queue.recover_expired_leases(db)
            assert await queue.claim_next_job(db, "thief", lease) is None
            await asyncio.sleep(0.05)  # polling cadence only; nothing waits on it for timing
    finally:
        release.set()
        await worker.stop(grace_seconds=30)  # waits for the released job to complete
    assert runs == [job_id] and await _status(db, job_id) == "done"


async def _status(db: SessionFactory, job_id: int) -> str:
    async with db() as session:
        return (await session.execute(select(Job.status).where(Job.id == job_id))).scalar_one()
