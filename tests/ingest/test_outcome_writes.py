"""A database outage after a job's GitHub calls does not run the job again (issue 12, cause 2).

A real worker process reaches PostgreSQL through a proxy the test cuts right as the job's
handler returns: the write that records completion fails until the proxy is back, and must
be retried (not dropped, leaving the job "running" to be re-run in full after its lease).
"""

from __future__ import annotations

import signal
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
