"""What the dashboard's pages read: installations, repositories, issue runs, tasks, attempts,
jobs and deliveries, each limited to what the viewer may see (`core.dashboard_access`).
Reads only; the one write (replaying a dead job) is `store.dead_jobs`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.dashboard_access import Viewer
from bot.core.failure_notice import FailureNotice
from bot.core.progress import progress_text
from bot.repo.llm import month_start
from bot.report.task_notice import notice_of
from bot.store.attempt_records import load_record
from bot.store.models import (
    Attempt,
    AttemptRecord,
    Delivery,
    Installation,
    IssueRun,
    Job,
    Repository,
    Task,
    aware,
    utcnow,
)

LIST_LIMIT = 100


@dataclass(frozen=True)
class InstallationRow:
    installation: Installation
    repositories: int
    spent_usd: float


@dataclass(frozen=True)
class TaskRow:
    task: Task
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def live(self) -> Attempt | None:
        """The attempt still running, with its streamed tokens so far."""
        return next((a for a in reversed(self.attempts) if a.outcome == "running"), None)

    @property
    def live_note(self) -> str:
        """What the status comment's row says of it: "1,834 tokens so far, 38 s"."""
        attempt = self.live
        if attempt is None:
            return ""
        started, stored = aware(attempt.started_at), aware(attempt.progress_at)
        seconds = (stored - started).total_seconds() if started and stored else 0.0
        return progress_text(attempt.streamed_tokens or 0, seconds)

    def notice(self, public_url: str | None) -> FailureNotice | None:
        """The task's failure as the status comment, PR comment and check run say it."""
        newest = self.attempts[-1].id if self.attempts else None
        return notice_of(self.task, newest, public_url)


async def spend_by_installation(
    session: AsyncSession, now: datetime | None = None
) -> dict[int, float]:
    """This month's LLM spend per installation, as budgets count it (bot/repo/llm.py)."""
    rows = await session.execute(
        select(Attempt.installation_id, func.coalesce(func.sum(Attempt.cost_usd), 0.0))
        .where(Attempt.started_at >= month_start(now or utcnow()))
        .group_by(Attempt.installation_id)
    )
    return {int(i): float(total) for i, total in rows.all() if i is not None}


async def installations(session: AsyncSession, viewer: Viewer) -> list[InstallationRow]:
    found = (
        await session.execute(select(Installation).order_by(Installation.account_login))
    ).scalars()
    counts = dict(
        (
            await session.execute(
                select(Repository.installation_id, func.count())
                .where(Repository.removed.is_(False))
                .group_by(Repository.installation_id)
            )
        ).all()
    )
    spend = await spend_by_installation(session)
    return [
        InstallationRow(inst, int(counts.get(inst.id, 0)), spend.get(inst.id, 0.0))
        for inst in found
        if viewer.sees_installation(inst.id)
    ]


async def installation(
    session: AsyncSession, viewer: Viewer, installation_id: int
) -> Installation | None:
    found = await session.get(Installation, installation_id)
    return found if found is not None and viewer.sees_installation(found.id) else None


async def repositories(
    session: AsyncSession, viewer: Viewer, installation_id: int
) -> list[Repository]:
    found = await session.execute(
        select(Repository)
        .where(Repository.installation_id == installation_id, Repository.removed.is_(False))
        .order_by(Repository.full_name)
    )
    return [r for r in found.scalars() if viewer.sees_repository(r.id)]


async def repository(
    session: AsyncSession, viewer: Viewer, repository_id: int
) -> Repository | None:
    found = await session.get(Repository, repository_id)
    return found if found is not None and viewer.sees_repository(found.id) else None


async def runs(session: AsyncSession, repository_id: int) -> list[tuple[IssueRun, dict[str, int]]]:
    """The repository's issue runs, newest first, with their tasks counted by state."""
    found = list(
        (
            await session.execute(
                select(IssueRun)
                .where(IssueRun.repository_id == repository_id)
                .order_by(IssueRun.id.desc())
                .limit(LIST_LIMIT)
            )
        ).scalars()
    )
    states: dict[int, dict[str, int]] = {run.id: {} for run in found}
    rows = await session.execute(
        select(Task.run_id, Task.state, func.count())
        .where(Task.run_id.in_(list(states)))
        .group_by(Task.run_id, Task.state)
    )
    for run_id, state, count in rows.all():
        states[run_id][str(state)] = int(count)
    return [(run, states[run.id]) for run in found]


async def run_with_tasks(
    session: AsyncSession, viewer: Viewer, run_id: int
) -> tuple[IssueRun, list[TaskRow]] | None:
    run = await session.get(IssueRun, run_id)
    if run is None or not viewer.sees_repository(run.repository_id):
        return None
    tasks = list(
        (
            await session.execute(select(Task).where(Task.run_id == run_id).order_by(Task.ordinal))
        ).scalars()
    )
    attempts: dict[int, list[Attempt]] = {t.id: [] for t in tasks}
    found = await session.execute(
        select(Attempt).where(Attempt.task_id.in_(list(attempts))).order_by(Attempt.id)
    )
    for attempt in found.scalars():
        attempts[attempt.task_id].append(attempt)
    return run, [TaskRow(t, attempts[t.id]) for t in tasks]


async def attempt_detail(
    session: AsyncSession, viewer: Viewer, attempt_id: int
) -> tuple[Attempt, Task, AttemptRecord | None] | None:
    attempt = await session.get(Attempt, attempt_id)
    task = await session.get(Task, attempt.task_id) if attempt is not None else None
    if attempt is None or task is None or not viewer.sees_repository(task.repository_id):
        return None
    return attempt, task, await load_record(session, attempt_id)


async def _visible_names(session: AsyncSession, viewer: Viewer) -> set[str]:
    found = await session.execute(
        select(Repository.full_name).where(Repository.id.in_(sorted(viewer.repository_ids)))
    )
    return {name.lower() for name in found.scalars()}


async def jobs_and_deliveries(
    session: AsyncSession, viewer: Viewer, status: str | None = None
) -> tuple[list[Job], list[Delivery]]:
    """The newest jobs (of one status, or any) and deliveries. A person who is not an operator
    sees those of their repositories only: a task's job by the task's repository, a delivery
    and its job by the delivery's repository; nothing belonging to no repository."""
    job_query = select(Job).order_by(Job.id.desc()).limit(LIST_LIMIT)
    if status:
        job_query = job_query.where(Job.status == status)
    jobs: Sequence[Job] = list((await session.execute(job_query)).scalars())
    deliveries: Sequence[Delivery] = list(
        (
            await session.execute(select(Delivery).order_by(Delivery.id.desc()).limit(LIST_LIMIT))
        ).scalars()
    )
    if viewer.admin:
        return list(jobs), list(deliveries)
    names = await _visible_names(session, viewer)
    visible_deliveries = [d for d in deliveries if (d.repository or "").lower() in names]
    return [j for j in jobs if await job_visible(session, viewer, j, names)], visible_deliveries


async def job_visible(
    session: AsyncSession, viewer: Viewer, job: Job, names: set[str] | None = None
) -> bool:
    if viewer.admin:
        return True
    if job.task_id is not None:
        task = await session.get(Task, job.task_id)
        return task is not None and viewer.sees_repository(task.repository_id)
    if job.delivery_id is not None:
        names = names if names is not None else await _visible_names(session, viewer)
        repo = (
            await session.execute(
                select(Delivery.repository).where(Delivery.delivery_id == job.delivery_id)
            )
        ).scalar_one_or_none()
        return (repo or "").lower() in names
    return False
