"""A task's job dead-lettered on SQLite and PostgreSQL: by its last failure (`fail`) or by its
worker lost on its last try (`recover_expired_leases`), the task stops failed in the same
transaction and a job is queued to say why on GitHub; unless another job carries it on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.store import queue
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import IssueRun, Job, Task, utcnow


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def fixing_task(db: SessionFactory, kind: str = "ci_fix") -> tuple[int, int]:
    """A task whose CI-fix attempt is running (its one try claimed): (task id, job id)."""
    async with db() as session, session.begin():
        run = IssueRun(repository="o/r", repository_id=1, installation_id=2, issue_number=3)
        session.add(run)
        await session.flush()
        task = Task(
            key="o/r#3/1",
            run_id=run.id,
            repository="o/r",
            repository_id=1,
            issue_number=3,
            ordinal=1,
            title="t",
            task_type="bugfix",
            state="fixing",
        )
        session.add(task)
        await session.flush()
        job = await queue.enqueue(session, kind, {"task_id": task.id}, task_id=task.id)
        job.max_attempts = 1
        task_id, job_id = task.id, job.id
    claimed = await queue.claim_next_job(db, "w", 30)
    assert claimed is not None and claimed.id == job_id
    return task_id, job_id


async def outcome(db: SessionFactory, task_id: int) -> tuple[str, str | None, list[str]]:
    async with db() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        queued = await session.execute(
            select(Job.kind).where(Job.task_id == task_id, Job.status == "queued")
        )
        return task.state, task.last_error, list(queued.scalars())


async def dead_letter(db: SessionFactory, job_id: int, how: str) -> None:
    if how == "failed":
        async with db() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        claimed = queue.ClaimedJob(job.id, job.kind, None, job.task_id, {}, 1, 1)
        assert await queue.fail(db, claimed, "w", "JobTimedOut: too long") == "dead"
    else:
        later = utcnow() + timedelta(seconds=31)
        assert await queue.recover_expired_leases(db, now=later) == 1


@pytest.mark.parametrize("how", ["failed", "worker-lost"])
async def test_a_dead_lettered_job_fails_its_task_and_queues_the_news(
    db: SessionFactory, how: str
) -> None:
    task_id, job_id = await fixing_task(db)
    await dead_letter(db, job_id, how)
    state, error, queued = await outcome(db, task_id)
    assert state == "failed" and error is not None and "/issuewright retry" in error
    assert queued == [queue.GAVE_UP_JOB]


@pytest.mark.parametrize("how", ["failed", "worker-lost"])
async def test_a_task_another_job_carries_on_is_left_alone(db: SessionFactory, how: str) -> None:
    task_id, job_id = await fixing_task(db)
    async with db() as session, session.begin():
        await queue.enqueue(session, "review", {"task_id": task_id}, task_id=task_id)
    await dead_letter(db, job_id, how)
    assert await outcome(db, task_id) == ("fixing", None, ["review"])
