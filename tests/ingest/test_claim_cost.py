"""A claim reads the head of the queue, not the whole backlog.

Claims are taken one at a time (an advisory lock on PostgreSQL, one writer on SQLite), so
what one claim costs bounds how fast all workers together drain the queue. The claim used to
read, filter and sort every queued job to find the first: with 10,000 queued on PostgreSQL
each claim took ~60 ms and all workers together drained fewer than ~20 jobs/s. The database's
own plan says how many queued rows a claim reads; no timing is measured. (SQLite's index
entries end with the rowid, the job's id, so there the order was already the index's.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import queue
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Job, utcnow

BACKLOG = 2000


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def _fill(engine: AsyncEngine) -> None:
    """A backlog as the receiver leaves it: deliveries of many issues, four installations,
    some of them sharing one instant (a batch committed together)."""
    start = utcnow() - timedelta(minutes=5)
    rows = [
        {
            "kind": "delivery",
            "payload": {},
            "status": "done" if i < BACKLOG // 4 else "queued",
            "attempts": 0,
            "max_attempts": 5,
            "run_after": start + timedelta(milliseconds=i // 8),
            "created_at": start,
            "concurrency_key": f"octo-org/app#{i % 300}",
            "installation_id": i % 4,
        }
        for i in range(BACKLOG)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(Job), rows)


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("Plans", []):
        found += _plan_nodes(child)
    return found


async def test_a_claim_reads_the_head_of_the_queue_not_the_backlog(engine: AsyncEngine) -> None:
    await _fill(engine)
    claims: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE JOBS"):
            claims.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    sessions = make_session_factory(engine)
    job = await queue.claim_next_job(sessions, "w", 30, installation_cap=2)
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert job is not None and job.id == BACKLOG // 4 + 1  # the oldest queued job
    [(statement, params)] = claims

    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            raw = await conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
            plan = raw.scalar_one()
            nodes = _plan_nodes((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
            await conn.rollback()  # EXPLAIN ANALYZE ran the claim: undo it
            assert not [n for n in nodes if n["Node Type"] == "Sort"]
            queue_scans = [n for n in nodes if n.get("Alias") == "jobs_2"]
            read = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in queue_scans)
            assert read <= 10, f"the claim read {read} queued rows to take one"
        else:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
            details = [str(row[-1]) for row in rows]
            assert not [d for d in details if "TEMP B-TREE FOR" in d and "ORDER BY" in d], details
