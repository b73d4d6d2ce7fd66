"""A database outage after a job's GitHub calls does not run the job again (issue 12, cause 2).

A real worker process reaches PostgreSQL through a proxy the test cuts right as the job's
handler returns: the write that records completion fails until the proxy is back, and must
be retried (not dropped, leaving the job "running" to be re-run in full after its lease).

On SQLite the outage is another process holding the write lock (a long `cleanup`, a
migration, a second process on the file) past the busy timeout: the write fails with
"database is locked" instead of a lost connection, and must be retried the same way.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import Job
from tests.conftest import _truncate
from tests.ingest.tcp_proxy import TcpProxy
from tests.ingest.test_queue import spawn_worker


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[tuple[str, SessionFactory]]:
    await _truncate(pg_url)
    engine = make_engine(pg_url)
    yield pg_url, make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def proxied(pg: tuple[str, SessionFactory]) -> Iterator[tuple[TcpProxy, str]]:
    url = make_url(pg[0])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.stop()


async def test_completion_is_recorded_through_an_outage_and_the_job_runs_once(
    pg: tuple[str, SessionFactory], proxied: tuple[TcpProxy, str]
) -> None:
    _, db = pg
    proxy, url = proxied
    async with db() as session, session.begin():
        job_id = (await queue.enqueue(session, "block")).id
    proc = spawn_worker(url)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == f"started {job_id}"
    proxy.down()  # the side effects are done; the database goes away before completion
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == f"finished {job_id}"
    proxy.wait_refused(3)  # the worker has tried to reach the database again and again
    proxy.up()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert "stopped" in out and f"started {job_id}" not in out
    async with db() as session:
        row = (await session.execute(select(Job).where(Job.id == job_id))).scalar_one()
    assert (row.status, row.attempts) == ("done", 1)


async def test_completion_is_recorded_through_a_locked_sqlite_database_and_the_job_runs_once(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    db = make_session_factory(engine)
    async with db() as session, session.begin():
        job_id = (await queue.enqueue(session, "block")).id
    # Writes give up on a held lock after 0.2 s instead of the app's 15 s.
    proc = spawn_worker(sqlite_url, 30.0, "200", stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == f"started {job_id}"
        holder = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the side effects are done; the file is locked
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == f"finished {job_id}"
        for line in proc.stderr:  # the worker's warnings: its write failed and is retried
            assert "worker loop error" not in line, "the completion write was dropped"
            if f"recording job {job_id}'s completion failed (OperationalError)" in line:
                break
        holder.execute("ROLLBACK")
        holder.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "stopped" in out and f"started {job_id}" not in out
    async with db() as session:
        row = (await session.execute(select(Job).where(Job.id == job_id))).scalar_one()
    await engine.dispose()
    assert (row.status, row.attempts) == ("done", 1)
