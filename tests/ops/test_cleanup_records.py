"""`cleanup` removes attempt records by age with the rest of the history, and keeps those a
person may still be reading: a running attempt's and an active task's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.ops.cleanup import cleanup
from bot.store.attempt_records import save_record
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Attempt, AttemptRecord
from tests.ops.test_stats_cleanup import DAY, History, script


@pytest.fixture
async def history(database_url: str) -> AsyncIterator[History]:
    engine = make_engine(database_url)
    yield await script(make_session_factory(engine))
    await engine.dispose()


async def kept_for(history: History) -> dict[tuple[str, str, str], int]:
    """(task name, attempt kind, outcome) → attempt id, for every attempt with a record."""
    names = {v: k for k, v in history.tasks.items()}
    async with history.sessions() as session:
        rows = await session.execute(
            select(Attempt.task_id, Attempt.kind, Attempt.outcome, Attempt.id).join(
                AttemptRecord, AttemptRecord.attempt_id == Attempt.id
            )
        )
        return {(names[t], k, o): i for t, k, o, i in rows.all()}


async def test_cleanup_removes_old_records_of_finished_work_only(history: History) -> None:
    async with history.sessions() as session, session.begin():
        attempts = (await session.execute(select(Attempt))).scalars().all()
        for attempt in attempts:
            record = await save_record(session, attempt.id, answer="the answer", diff="+x")
            record.updated_at = attempt.started_at  # written when the attempt ran
    before = await kept_for(history)
    assert len(before) == 8

    dry = await cleanup(history.sessions, 30 * DAY, None, now=history.now, dry_run=True)
    assert await kept_for(history) == before
    report = await cleanup(history.sessions, 30 * DAY, None, now=history.now)
    # Older than 30 days and finished: t1's and t2's two (merged and closed tasks).
    assert report.records == dry.records == 3
    after = await kept_for(history)
    assert set(before) - set(after) == {
        ("t1", "generate", "success"),
        ("t2", "generate", "success"),
        ("t2", "ci_fix", "failed"),
    }
    async with history.sessions() as session:
        # The attempts themselves stay: stats read them.
        assert len((await session.execute(select(Attempt))).scalars().all()) == 8

    assert (await cleanup(history.sessions, 30 * DAY, None, now=history.now)).records == 0


async def test_records_of_an_active_task_or_a_running_attempt_stay(history: History) -> None:
    async with history.sessions() as session, session.begin():
        attempts = (await session.execute(select(Attempt))).scalars().all()
        for attempt in attempts:
            record = await save_record(session, attempt.id, answer="old")
            record.updated_at = history.now - 90 * DAY
    report = await cleanup(history.sessions, timedelta(days=1), None, now=history.now)
    left = await kept_for(history)
    # t5 checks_failed (active): its four attempts, the running one included.
    assert sorted(left) == [
        ("t5", "ci_fix", "failed"),
        ("t5", "ci_fix", "running"),
        ("t5", "ci_fix", "success"),
        ("t5", "generate", "success"),
    ]
    assert report.records == 4  # t1, t2 ×2, t4
