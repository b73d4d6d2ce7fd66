"""Limits that keep one tenant or one stuck job from holding the workers, on SQLite and
PostgreSQL: a wall-clock limit per job, and a cap on the running jobs of one installation."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.jobs import worker as worker_module
from bot.jobs.dispatch import Router
from bot.jobs.schedule import enqueue_task_job
from bot.jobs.worker import Worker
from bot.runtime import HandlerContext
from bot.settings import Settings
from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.incoming import IncomingDelivery
from bot.store.ingest import DeliveryWriter
from bot.store.models import Delivery, IssueRun, Job, Task, utcnow

A, B = 101, 202
SAFETY = 30.0  # a regression fails instead of hanging; no assertion is about time


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def add(sessions: SessionFactory, kind: str, installation: int | None, **kw: Any) -> int:
    async with sessions() as session, session.begin():
        job = await queue.enqueue(
            session, kind, kw.pop("payload", {}), installation_id=installation, **kw
        )
        return job.id


async def rows(sessions: SessionFactory) -> dict[int, Job]:
    async with sessions() as session:
        return {j.id: j for j in (await session.execute(select(Job))).scalars()}


def make_worker(
    url: str, sessions: SessionFactory, router: Router, concurrency: int, **settings: Any
) -> Worker:
    s = Settings(database_url=url, job_lease_seconds=30, **settings)
    return Worker(HandlerContext(settings=s, sessions=sessions), router, concurrency=concurrency)


# ---------------------------------------------------------------- installation cap


async def test_the_claim_skips_an_installation_at_its_cap(
    database_url: str, db: SessionFactory
) -> None:
    a1 = await add(db, "work", A)
    a2 = await add(db, "work", A)
    b1 = await add(db, "work", B)
    unowned = await add(db, "work", None)
    claims = [await queue.claim_next_job(db, f"w{i}", 30, installation_cap=1) for i in range(4)]
    assert [c.id if c else None for c in claims] == [a1, b1, unowned, None]
    assert claims[0] is not None and claims[0].installation_id == A
    await queue.complete(db, claims[0], "w0")
    again = await queue.claim_next_job(db, "w5", 30, installation_cap=1)
    assert again is not None and again.id == a2
    # A cap of 2 lets two of one installation run.
    await add(db, "work", B)
    assert await queue.claim_next_job(db, "w6", 30, installation_cap=2) is not None


async def test_concurrent_claims_never_exceed_the_cap(
    database_url: str, db: SessionFactory
) -> None:
    for _ in range(8):
        await add(db, "work", A)
        await add(db, "work", B)
    engines = [make_engine(database_url) for _ in range(6)]
    try:
        factories = [make_session_factory(e) for e in engines]
        claimed = await asyncio.gather(
            *(
                queue.claim_next_job(f, f"w{i}", 30, installation_cap=1)
                for i, f in enumerate(factories * 2)
            )
        )
    finally:
        for engine in engines:
            await engine.dispose()
    running = Counter(j.installation_id for j in (await rows(db)).values() if j.status == "running")
    assert running == {A: 1, B: 1}
    assert sum(c is not None for c in claimed) == 2


async def test_one_installation_never_runs_two_jobs_while_another_still_runs(
    database_url: str, db: SessionFactory
) -> None:
    """Through the real worker with two slots and a cap of 1: installation A queued first
    cannot take both slots, B's job runs beside A's, and A's jobs run one at a time."""
    a_jobs = [await add(db, "work", A, payload={"who": "A"}) for _ in range(3)]
    b_job = await add(db, "work", B, payload={"who": "B"})
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()
    b_started = asyncio.Event()
    a_running_beside_b: list[int] = []
    finished: list[int] = []
    all_done = asyncio.Event()
    router = Router()

    @router.job("work")
    async def work(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        who = payload["who"]
        running[who] += 1
        most[who] = max(most[who], running[who])
        try:
            if who == "B":
                a_running_beside_b.append(running["A"])
                b_started.set()
            else:  # A holds its slot until B has run beside it (a second A never can)
                await asyncio.wait_for(b_started.wait(), SAFETY)
        finally:
            running[who] -= 1
            finished.append(job_id)
            if len(finished) == 4:
                all_done.set()

    worker = make_worker(database_url, db, router, 2, installation_max_concurrent_jobs=1)
    worker.start()
    try:
        await asyncio.wait_for(all_done.wait(), SAFETY)
    finally:
        await worker.stop(grace_seconds=5)
    assert a_running_beside_b == [1]
    assert most == {"A": 1, "B": 1}
    statuses = {i: j.status for i, j in (await rows(db)).items()}
    assert statuses == dict.fromkeys([*a_jobs, b_job], "done")


async def test_jobs_carry_their_installation(database_url: str, db: SessionFactory) -> None:
    """Delivery jobs get the webhook's installation (both write paths), task jobs their run's,
    a replayed delivery its delivery's."""
    engine = make_engine(database_url)
    writer = DeliveryWriter(engine)
    writer.start()
    try:
        incoming = IncomingDelivery(
            "d-a", "issues", "labeled", A, "octo/repo", "{}", utcnow(), True, "octo/repo#1"
        )
        assert await writer.store(incoming) == "stored"
    finally:
        await writer.stop()
        await engine.dispose()
    async with db() as session, session.begin():
        run = IssueRun(repository="octo/other", issue_number=3, installation_id=B)
        session.add(run)
        await session.flush()
        task = Task(
            key="octo/other#3/1",
            run_id=run.id,
            repository="octo/other",
            issue_number=3,
            ordinal=1,
            title="t",
            task_type="feature",
        )
        session.add(task)
        await session.flush()
        assert await enqueue_task_job(session, task)
        session.add(
            Delivery(
                delivery_id="d-old",
                event="issues",
                action="opened",
                installation_id=A,
                payload="{}",
                status="dead",
            )
        )
    replayed = await queue.replay_delivery(db, "d-old")
    by_source = {(j.delivery_id, j.task_id): j.installation_id for j in (await rows(db)).values()}
    assert by_source == {("d-a", None): A, (None, task.id): B, ("d-old", None): A}
    assert replayed in await rows(db)


# ---------------------------------------------------------------- job wall-clock limit


async def test_a_job_that_never_returns_is_cut_at_its_limit_and_its_slot_reused(
    database_url: str, db: SessionFactory
) -> None:
    stuck_last = await add(db, "stuck", A, max_attempts=1)
    stuck_retry = await add(db, "stuck", A, max_attempts=3)
    quick = await add(db, "quick", A)
    started: list[int] = []
    cancelled: list[int] = []
    quick_ran = asyncio.Event()
    never = asyncio.Event()
    router = Router()

    @router.job("stuck")
    async def stuck(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        started.append(job_id)
        try:
            await never.wait()  # an answer that never ends
        except asyncio.CancelledError:
            cancelled.append(job_id)
            raise

    @router.job("quick")
    async def quick_job(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        quick_ran.set()

    # One slot: the quick job can only run once the stuck ones have given theirs back.
    worker = make_worker(database_url, db, router, 1, job_timeout_seconds=0.3)
    worker.start()
    try:
        await asyncio.wait_for(quick_ran.wait(), SAFETY)
    finally:
        await worker.stop(grace_seconds=5)
    assert started == cancelled == [stuck_last, stuck_retry]
    jobs = await rows(db)
    last, retry = jobs[stuck_last], jobs[stuck_retry]
    assert last.status == "dead" and "JOB_TIMEOUT_SECONDS (0.3 s)" in (last.last_error or "")
    assert retry.status == "queued" and retry.attempts == 1  # backoff, then tried again
    assert "JOB_TIMEOUT_SECONDS" in (retry.last_error or "") and retry.locked_by is None
    assert jobs[quick].status == "done"
    # The heartbeat no longer holds them: neither is running under this worker's lease.
    for job_id in (stuck_last, stuck_retry):
        assert not await queue.heartbeat(db, job_id, worker.worker_id, 30)


async def test_a_job_that_ignores_its_cancellation_is_abandoned_and_the_slot_freed(
    database_url: str, db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "CANCEL_GRACE_SECONDS", 0.1)
    stubborn = await add(db, "stubborn", A, max_attempts=1)
    quick = await add(db, "quick", B)
    release = asyncio.Event()
    quick_ran = asyncio.Event()
    router = Router()

    @router.job("stubborn")
    async def stubborn_job(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        try:
            await release.wait()
        except asyncio.CancelledError:
            await release.wait()  # swallows the cancellation and keeps going

    @router.job("quick")
    async def quick_job(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        quick_ran.set()

    worker = make_worker(database_url, db, router, 1, job_timeout_seconds=0.3)
    worker.start()
    try:
        await asyncio.wait_for(quick_ran.wait(), SAFETY)
    finally:
        await worker.stop(grace_seconds=5)
        release.set()
    jobs = await rows(db)
    assert jobs[stubborn].status == "dead" and jobs[quick].status == "done"
