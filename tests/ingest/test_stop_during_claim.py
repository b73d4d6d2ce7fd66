"""SIGTERM while a claim is in flight (issue 12, cause 3).

A real worker process with two slots runs job A; the test holds the claim lock so the other
slot's claim is stuck mid-way, adds job B, sends SIGTERM, then lets the claim through. The
stopping worker must not start B after "stopping" (nothing would wait for it): it gives B back
untouched, finishes A within its grace period, and exits.

On PostgreSQL the claim waits on its advisory lock; on SQLite (no such lock) it waits on the
file's write lock, held by another process (a `cleanup`, a migration, a second worker).
"""

from __future__ import annotations

import asyncio
import os
import select as io_select
import signal
import sqlite3
import subprocess
import sys
from collections import deque
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import Job
from tests.conftest import ROOT, _truncate


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[SessionFactory]:
    await _truncate(pg_url)
    engine = make_engine(pg_url)
    yield make_session_factory(engine)
    await engine.dispose()


def read_until(proc: subprocess.Popen[str], *wanted: str) -> str:
    """The first stdout line starting with one of `wanted` (log lines in between skipped)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(wanted):
            return line.strip()
    raise AssertionError(f"worker exited before printing any of {wanted}")


def spawn(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.stop_worker_proc", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def spawn_unbuffered(url: str) -> subprocess.Popen[bytes]:
    """`spawn`, its stdout unbuffered bytes, so `Printed` can see what is there now."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.stop_worker_proc", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )


async def _job_enqueued(db: SessionFactory) -> int:
    async with db() as session, session.begin():
        return (await queue.enqueue(session, "block")).id


async def test_a_job_claimed_while_stopping_is_given_back_before_it_starts(
    pg_url: str, pg: SessionFactory
) -> None:
    first = await _job_enqueued(pg)
    proc = spawn(pg_url)
    try:
        assert proc.stdin is not None
        assert read_until(proc, "started") == f"started {first}"
        async with pg() as holder, holder.begin():
            # Every claim takes this lock first: holding it stalls the idle slot's next claim.
            await holder.execute(text(f"SELECT pg_advisory_xact_lock({queue.CLAIM_LOCK_KEY})"))
            second = await _job_enqueued(pg)
            while True:  # until the worker's claim queues on the lock
                if await _claim_waiting(pg):
                    break
                await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            assert read_until(proc, "stopping") == "stopping"
        # The lock is released: the stalled claim takes job B now, after "stopping".
        seen = read_until(proc, f"started {second}", f"log released job {second}")
        assert seen.startswith("log released"), "a job claimed while stopping was started"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=120)
        assert f"finished {first}" in out and "stopped" in out and proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    async with pg() as session:
        rows = {j.id: j for j in (await session.execute(select(Job))).scalars()}
    assert rows[first].status == "done"
    assert (rows[second].status, rows[second].attempts, rows[second].locked_by) == (
        "queued",
        0,
        None,
    )


async def _claim_waiting(db: SessionFactory) -> bool:
    async with db() as session:
        waiting = await session.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        )
        return bool(waiting.scalar_one())


class Printed:
    """A worker's stdout, line by line: everything it has printed so far (without waiting),
    or the next line (waiting for it)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd, self.partial, self.lines = proc.stdout.fileno(), b"", deque[str]()

    def _read(self, wait: bool) -> bool:
        if not wait and not io_select.select([self.fd], [], [], 0)[0]:
            return False
        chunk = os.read(self.fd, 65536)
        if not chunk:
            raise AssertionError("the worker exited")
        *done, self.partial = (self.partial + chunk).split(b"\n")
        self.lines.extend(line.decode().strip() for line in done)
        return True

    def so_far(self) -> list[str]:
        while self._read(wait=False):
            pass
        printed = list(self.lines)
        self.lines.clear()
        return printed

    def until(self, *wanted: str) -> str:
        while True:
            while not self.lines:
                self._read(wait=True)
            line = self.lines.popleft()
            if line.startswith(wanted):
                return line


async def test_on_sqlite_a_job_claimed_while_stopping_is_given_back_before_it_starts(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    db = make_session_factory(engine)
    first = await _job_enqueued(db)
    second = await _job_enqueued(db)
    async with db() as session, session.begin():  # not claimable until the test says so
        await session.execute(update(Job).where(Job.id == second).values(status="held"))
    proc = spawn_unbuffered(sqlite_url)
    out = Printed(proc)
    holder = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
    try:
        assert proc.stdin is not None
        assert out.until("started") == f"started {first}"
        # Every claim writes: holding the write lock stalls the idle slot's next claim.
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (second,))
        # A claim sent before the lock was taken has printed claim-done by now; one still
        # without it is waiting for the lock, else the next one will.
        waiting = False
        for line in out.so_far():
            waiting = {"claim-sent": True, "claim-done": False}.get(line, waiting)
        if not waiting:
            out.until("claim-sent")
        proc.send_signal(signal.SIGTERM)
        assert out.until("stopping") == "stopping"
        holder.execute("COMMIT")  # the stalled claim takes job B now, after "stopping"
        seen = out.until(f"started {second}", f"log released job {second}")
        assert seen.startswith("log released"), "a job claimed while stopping was started"
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        assert out.until(f"finished {first}") and out.until("stopped")
        assert proc.wait(timeout=120) == 0
    finally:
        holder.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    async with db() as session:
        rows = {j.id: j for j in (await session.execute(select(Job))).scalars()}
    await engine.dispose()
    assert rows[first].status == "done"
    assert (rows[second].status, rows[second].attempts, rows[second].locked_by) == (
        "queued",
        0,
        None,
    )
