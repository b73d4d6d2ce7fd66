"""The gauges `/metrics` reads from the database at scrape time: queue depth by status, the
age of the oldest runnable job, tasks by lifecycle state.

They are read, not kept in memory, because the database is the one source every process
shares (a separate `issuewright worker` never touches the web process's counters).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot.core.lifecycle import TaskState
from bot.core.metric_labels import JOB_STATUSES, bucketed
from bot.store.db import SessionFactory
from bot.store.models import Job, Task, aware, utcnow


@dataclass(frozen=True)
class DatabaseSnapshot:
    jobs_by_status: dict[str, int] = field(default_factory=dict)
    oldest_runnable_age_seconds: float = 0.0
    tasks_by_state: dict[str, int] = field(default_factory=dict)


async def read_snapshot(sessions: SessionFactory, now: datetime | None = None) -> DatabaseSnapshot:
    """The database-backed gauges, in one short read-only session."""
    now = now or utcnow()
    async with sessions() as session:
        job_rows = (
            await session.execute(select(Job.status, func.count()).group_by(Job.status))
        ).all()
        # Runnable jobs only: a job waiting out its retry backoff is not "stuck". The age is
        # counted from when it became runnable, so it measures how far workers lag behind.
        oldest = (
            await session.execute(
                select(func.min(Job.run_after)).where(Job.status == "queued", Job.run_after <= now)
            )
        ).scalar()
        task_rows = (
            await session.execute(select(Task.state, func.count()).group_by(Task.state))
        ).all()
    # Rows are written by the app, but a label is only ever a known value (a row from a
    # newer or older version, or edited by hand, is counted as "other").
    jobs = bucketed({str(status): int(n) for status, n in job_rows}, JOB_STATUSES)
    tasks = bucketed({str(s): int(n) for s, n in task_rows}, (s.value for s in TaskState))
    oldest_at = aware(oldest)
    age = max(0.0, (now - oldest_at).total_seconds()) if oldest_at else 0.0
    return DatabaseSnapshot(jobs, age, tasks)


class DatabaseCollector(Collector):
    """Yields the last snapshot at collect time. Collectors are synchronous, so the route
    refreshes the snapshot (async) just before it renders the registry."""

    def __init__(self) -> None:
        self.snapshot: DatabaseSnapshot | None = None

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "issuewright_database_up", "1 if the last scrape could read the database, else 0"
        )
        up.add_metric([], 1.0 if self.snapshot else 0.0)
        yield up
        if self.snapshot is None:
            return  # better no series than stale ones that look current
        depth = GaugeMetricFamily(
            "issuewright_queue_depth", "Jobs in the durable queue by status", labels=["status"]
        )
        for status, count in sorted(self.snapshot.jobs_by_status.items()):
            depth.add_metric([status], count)
        yield depth
        age = GaugeMetricFamily(
            "issuewright_queue_oldest_age_seconds",
            "Seconds the longest-waiting runnable queued job has waited (0 when none)",
        )
        age.add_metric([], self.snapshot.oldest_runnable_age_seconds)
        yield age
        tasks = GaugeMetricFamily("issuewright_tasks", "Tasks by lifecycle state", labels=["state"])
        for state, count in sorted(self.snapshot.tasks_by_state.items()):
            tasks.add_metric([state], count)
        yield tasks
