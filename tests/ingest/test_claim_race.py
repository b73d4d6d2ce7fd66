"""Per-issue exclusion and order under claims racing from several processes (issue 12, cause 5).

Several real processes claim from one database at once. Jobs share a few concurrency keys
(one issue each): at no moment may two jobs of one key run, and a key's jobs must run in the
order they were queued. On PostgreSQL every claim takes a transaction-scoped advisory lock
(claim.CLAIM_LOCK_KEY) before its "nothing of this key is running" check, so the check sees
every committed claim; on SQLite a claim is one write statement and writes are serialised.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import Job
from tests.conftest import ROOT

PROCESSES = 4
KEYS = 3
PER_KEY = 25


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


def spawn(url: str, name: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.claim_race_proc", url, name],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def start_all(procs: list[subprocess.Popen[str]]) -> list[str]:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    lines: list[str] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        lines += [line for line in out.splitlines() if line.startswith("claimed")]
    return lines


async def test_claims_racing_from_several_processes_keep_one_job_per_key_in_order(
    database_url: str, db: SessionFactory
) -> None:
    queued: dict[str, list[int]] = {}
    async with db() as session, session.begin():
        for _ in range(PER_KEY):  # interleaved, as comments on several issues arrive
            for k in range(KEYS):
                job = await queue.enqueue(session, "delivery", concurrency_key=f"octo/repo#{k}")
                queued.setdefault(f"octo/repo#{k}", []).append(job.id)
    procs = [spawn(database_url, f"racer-{i}") for i in range(PROCESSES)]
    lines = start_all(procs)
    claimed: dict[str, list[int]] = {}
    for line in lines:
        _, _, key, running = line.split()
        assert running == "1", f"two jobs of {key} ran at once ({line})"
    # Each key's jobs in the order they ran: with the exclusion holding, a key's next job is
    # claimed only after the previous one's completion committed, so finished_at orders them
    # (started_at does not: a claim reads the clock before it waits for its turn).
    async with db() as session:
        rows = (await session.execute(select(Job).order_by(Job.finished_at, Job.id))).scalars()
        for row in rows:
            assert row.status == "done" and row.attempts == 1
            assert row.concurrency_key is not None
            claimed.setdefault(row.concurrency_key, []).append(row.id)
    assert claimed == queued and len(lines) == KEYS * PER_KEY
