"""The durable queue on SQLite and PostgreSQL: claims, leases, crashes, shutdown, retries."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.jobs.dispatch import Router
from bot.jobs.worker import PermanentError, Worker
from bot.runtime import HandlerContext
from bot.settings import Settings
from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import Delivery, Job, utcnow
from tests.conftest import ROOT


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def add_jobs(sessions: SessionFactory, kind: str, n: int, **kw: Any) -> list[int]:
    async with sessions() as session, session.begin():
        jobs = [await queue.enqueue(session, kind, {"n": i}, **kw) for i in range(n)]
        return [j.id for j in jobs]


async def job_rows(sessions: SessionFactory) -> dict[int, Job]:
    async with sessions() as session:
        return {j.id: j for j in (await session.execute(select(Job))).scalars()}


def make_worker(url: str, sessions: SessionFactory, router: Router, concurrency: int = 1) -> Worker:
    settings = Settings(database_url=url, job_lease_seconds=30)
    return Worker(
        HandlerContext(settings=settings, sessions=sessions), router, concurrency=concurrency
    )


async def test_two_workers_never_run_the_same_job(database_url: str, db: SessionFactory) -> None:
    ids = await add_jobs(db, "count", 40)
    runs: list[tuple[int, str]] = []
    router = Router()

    @router.job("count")
    async def count(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        runs.append((job_id, ctx.extras["name"]))
        await asyncio.sleep(0)  # yield so the other worker's claims interleave with ours

    engine_b = make_engine(database_url)
    workers = [
        make_worker(database_url, db, router),
        make_worker(database_url, make_session_factory(engine_b), router),
    ]
    for name, worker in zip("ab", workers, strict=True):
        worker.ctx.extras["name"] = name

    async def drain_in_slots(worker: Worker) -> None:
        await asyncio.gather(*(worker.drain() for _ in range(3)))

    await asyncio.gather(*(drain_in_slots(w) for w in workers))
    await engine_b.dispose()
    assert sorted(job_id for job_id, _ in runs) == sorted(ids)
    assert {status for status in (j.status for j in (await job_rows(db)).values())} == {"done"}


async def test_failure_backs_off_then_dead_letters_with_last_error(
    database_url: str, db: SessionFactory
) -> None:
    async with db() as session, session.begin():
        session.add(
            Delivery(
                delivery_id="d-1", event="issues", action="labeled", payload="{}", status="queued"
            )
        )
        job = await queue.enqueue(session, "delivery", delivery_id="d-1", max_attempts=3)
    rng = random.Random(7)
    delays = []
    for attempt in range(1, 4):
        claimed = await queue.claim_next_job(
            db, "w", 30, now=utcnow() + timedelta(hours=attempt * 2)
        )
        assert claimed is not None and claimed.id == job.id and claimed.attempts == attempt
        status = await queue.fail(db, claimed, "w", f"boom {attempt}", rng=rng)
        row = (await job_rows(db))[job.id]
        if attempt < 3:
            assert status == "queued"
            delays.append(
                (row.run_after.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds()
            )
            # not runnable now: the backoff holds it back
            assert await queue.claim_next_job(db, "w", 30) is None
        else:
            assert status == "dead" and row.status == "dead" and row.last_error == "boom 3"
    assert 4 <= delays[0] < 10.5 and 9 <= delays[1] < 20.5  # 10 s then 20 s ceilings, jittered
    async with db() as session:
        delivery = (await session.execute(select(Delivery))).scalar_one()
    assert (delivery.status, delivery.reason) == ("dead", "boom 3")


async def test_permanent_error_dead_letters_at_once(database_url: str, db: SessionFactory) -> None:
    (job_id,) = await add_jobs(db, "bad", 1, max_attempts=5)
    router = Router()

    @router.job("bad")
    async def bad(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        raise PermanentError("the repository is gone")

    await make_worker(database_url, db, router).drain()
    row = (await job_rows(db))[job_id]
    assert (
        row.status == "dead"
        and row.attempts == 1
        and "repository is gone" in (row.last_error or "")
    )


async def test_replay_requeues_a_stored_delivery(database_url: str, db: SessionFactory) -> None:
    async with db() as session, session.begin():
        session.add(
            Delivery(
                delivery_id="d-9", event="issues", action="opened", payload="{}", status="dead"
            )
        )
    job_id = await queue.replay_delivery(db, "d-9")
    claimed = await queue.claim_next_job(db, "w", 30)
    assert claimed is not None and claimed.id == job_id and claimed.delivery_id == "d-9"
    await queue.complete(db, claimed, "w")
    async with db() as session:
        assert (await session.execute(select(Delivery.status))).scalar_one() == "done"
    with pytest.raises(LookupError):
        await queue.replay_delivery(db, "missing")


async def test_one_job_at_a_time_per_task(database_url: str, db: SessionFactory) -> None:
    await add_jobs(db, "gen", 2, task_id=7)
    first = await queue.claim_next_job(db, "w1", 30)
    assert first is not None
    assert await queue.claim_next_job(db, "w2", 30) is None  # same task: waits
    await queue.complete(db, first, "w1")
    assert await queue.claim_next_job(db, "w2", 30) is not None


def spawn_worker(
    url: str, grace: float = 30.0, *extra: str, stderr: int | None = None
) -> subprocess.Popen[str]:
    """tests/ingest/worker_proc.py on `url`; `extra` arguments after the grace period."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.worker_proc", url, str(grace), *extra],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


async def test_killed_worker_job_runs_again_after_lease_and_completes_once(
    database_url: str, db: SessionFactory
) -> None:
    (job_id,) = await add_jobs(db, "block", 1)
    proc = spawn_worker(database_url)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == f"started {job_id}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (await job_rows(db))[job_id].status == "running"
    # Lease not expired yet: nothing to recover. After it expires, the job is back.
    assert await queue.recover_expired_leases(db) == 0
    assert await queue.recover_expired_leases(db, now=utcnow() + timedelta(seconds=31)) == 1
    runs: list[int] = []
    router = Router()

    @router.job("block")
    async def finish(ctx: HandlerContext, payload: dict[str, Any], jid: int) -> None:
        runs.append(jid)

    await make_worker(database_url, db, router).drain()
    row = (await job_rows(db))[job_id]
    assert runs == [job_id] and row.status == "done" and row.attempts == 2


async def test_sigterm_finishes_the_running_job_and_claims_no_more(
    database_url: str, db: SessionFactory
) -> None:
    first, second = await add_jobs(db, "block", 2)
    proc = spawn_worker(database_url)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == f"started {first}"
    proc.send_signal(signal.SIGTERM)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and f"finished {first}" in out and "stopped" in out
    rows = await job_rows(db)
    assert rows[first].status == "done" and rows[second].status == "queued"


async def test_sigterm_releases_a_job_that_outlives_the_grace_period(
    database_url: str, db: SessionFactory
) -> None:
    (job_id,) = await add_jobs(db, "block", 1)
    proc = spawn_worker(database_url, grace=0.2)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == f"started {job_id}"
    proc.send_signal(signal.SIGTERM)
    assert proc.stdout.readline().strip() == "stopped"
    proc.stdin.close()  # lets the blocked reader thread end so the process can exit
    proc.wait(timeout=60)
    row = (await job_rows(db))[job_id]
    assert row.status == "queued" and row.attempts == 0 and row.locked_by is None


async def test_jobs_sharing_a_concurrency_key_run_one_after_the_other(
    database_url: str, db: SessionFactory
) -> None:
    await add_jobs(db, "delivery", 2, concurrency_key="octo/repo#7")
    (other,) = await add_jobs(db, "delivery", 1, concurrency_key="octo/repo#8")
    first = await queue.claim_next_job(db, "w1", 30)
    assert first is not None
    second = await queue.claim_next_job(db, "w2", 30)
    assert second is not None and second.id == other  # another issue: not held back
    assert await queue.claim_next_job(db, "w3", 30) is None  # same issue: waits
    await queue.complete(db, first, "w1")
    assert await queue.claim_next_job(db, "w3", 30) is not None
