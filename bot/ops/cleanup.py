"""`issuewright cleanup --older-than 30d [--dry-run]`: drop finished history past retention.

Removed: deliveries with a final status, finished jobs, pipeline events, stale worker
heartbeats and attempt records (the prompt, answer and diff an attempt kept) older than the
cutoff, and attempt worktrees whose task is finished. Kept, whatever their age: anything
unfinished (queued/running jobs, deliveries a queued/running job still reads, rows and records
of tasks in active states) and tasks, transitions, attempts and command runs, which are the
record `status`, `stats` and command de-duplication read. Records are deleted by their own
WHERE clause, not through the attempts' ON DELETE CASCADE (SQLite enforces foreign keys only
when asked to, and attempts are kept anyway).

The database part runs in one transaction: a failure removes nothing. Dry runs count with the
same WHERE clauses the deletes use, so "would remove" and "removed" cannot disagree.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.lifecycle import ACTIVE_STATES
from bot.git import cmd as git_cmd
from bot.store.db import SessionFactory
from bot.store.models import (
    Attempt,
    AttemptRecord,
    Delivery,
    Event,
    Job,
    Task,
    WorkerBeat,
    utcnow,
)

log = logging.getLogger(__name__)

FINISHED_DELIVERY = ("done", "ignored", "skipped", "dead")
FINISHED_JOB = ("done", "dead", "cancelled")
UNFINISHED_JOB = ("queued", "running")
ACTIVE = sorted(s.value for s in ACTIVE_STATES)
# workspace.add_worktree names a worktree "<branch with / as ->-<8 hex>".
_WORKTREE_NAME = re.compile(r"^(?P<branch>.+)-[0-9a-f]{8}$")


@dataclass
class CleanupReport:
    cutoff: datetime
    dry_run: bool
    deliveries: int = 0
    jobs: int = 0
    events: int = 0
    worker_beats: int = 0
    records: int = 0  # attempt records
    worktrees: list[Path] = field(default_factory=list)
    # Old worktrees left alone because no finished task could be matched to them.
    worktrees_kept: list[Path] = field(default_factory=list)


def _clauses(cutoff: datetime) -> dict[str, tuple[Any, ColumnElement[bool]]]:
    active_tasks = select(Task.id).where(Task.state.in_(ACTIVE)).scalar_subquery()
    unfinished = Job.status.in_(UNFINISHED_JOB)
    # IS NOT NULL keeps NOT IN away from SQL's NULL semantics (one NULL would match nothing).
    busy_deliveries = (
        select(Job.delivery_id).where(unfinished, Job.delivery_id.is_not(None)).scalar_subquery()
    )
    busy_jobs = select(Job.id).where(unfinished).scalar_subquery()
    return {
        "events": (
            Event,
            and_(
                Event.at < cutoff,
                or_(Event.task_id.is_(None), Event.task_id.not_in(active_tasks)),
                or_(Event.job_id.is_(None), Event.job_id.not_in(busy_jobs)),
            ),
        ),
        "deliveries": (
            Delivery,
            and_(
                Delivery.status.in_(FINISHED_DELIVERY),
                Delivery.received_at < cutoff,
                Delivery.delivery_id.not_in(busy_deliveries),
            ),
        ),
        "jobs": (
            Job,
            and_(
                Job.status.in_(FINISHED_JOB),
                # A job killed before it ever ran may have no finished_at.
                func.coalesce(Job.finished_at, Job.created_at) < cutoff,
                or_(Job.task_id.is_(None), Job.task_id.not_in(active_tasks)),
            ),
        ),
        # One row per worker process ever started; old ones only grow the table.
        "worker_beats": (WorkerBeat, WorkerBeat.beat_at < cutoff),
        # What a finished attempt sent and got back; a running one's, or an active task's,
        # is what a person looks at now.
        "records": (
            AttemptRecord,
            and_(
                AttemptRecord.updated_at < cutoff,
                AttemptRecord.attempt_id.not_in(
                    select(Attempt.id)
                    .where(or_(Attempt.outcome == "running", Attempt.task_id.in_(active_tasks)))
                    .scalar_subquery()
                ),
            ),
        ),
    }


async def _purge_rows(session: AsyncSession, cutoff: datetime, dry_run: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, (table, where) in _clauses(cutoff).items():
        if dry_run:
            counts[name] = int(
                (
                    await session.execute(select(func.count()).select_from(table).where(where))
                ).scalar_one()
            )
        else:
            result: Any = await session.execute(
                delete(table).where(where).execution_options(synchronize_session=False)
            )
            counts[name] = int(result.rowcount or 0)
    return counts


async def _finished_branches(session: AsyncSession) -> dict[str, dict[str, bool]]:
    """repository → {branch as a directory name: whether every task on it is finished}."""
    busy_tasks = set(
        (
            await session.execute(
                select(Job.task_id).where(Job.status.in_(UNFINISHED_JOB), Job.task_id.is_not(None))
            )
        ).scalars()
    )
    rows = (
        await session.execute(
            select(Task.id, Task.repository, Task.branch, Task.state).where(
                Task.branch.is_not(None)
            )
        )
    ).all()
    result: dict[str, dict[str, bool]] = {}
    for task_id, repository, branch, state in rows:
        if branch is None:  # filtered in SQL already; this narrows the type
            continue
        # A cancelled task may still have its attempt running until the next safe point, so
        # a queued/running job for it counts as unfinished too.
        finished = state not in ACTIVE and task_id not in busy_tasks
        key = branch.replace("/", "-")
        per_repo = result.setdefault(repository, {})
        per_repo[key] = per_repo.get(key, True) and finished
    return result


def _old_worktrees(worktrees_dir: Path, cutoff: datetime) -> list[tuple[str, str, Path]]:
    """(owner, repo, path) of worktree directories last modified before the cutoff."""
    found: list[tuple[str, str, Path]] = []
    if not worktrees_dir.is_dir():  # the root may be a symlink the operator chose
        return found
    limit = cutoff.timestamp()
    for owner_dir in sorted(p for p in worktrees_dir.iterdir() if _plain_dir(p)):
        for repo_dir in sorted(p for p in owner_dir.iterdir() if _plain_dir(p)):
            for path in sorted(p for p in repo_dir.iterdir() if _plain_dir(p)):
                if path.lstat().st_mtime < limit:
                    found.append((owner_dir.name, repo_dir.name, path))
    return found


def _plain_dir(path: Path) -> bool:
    # Never follow a symlink out of the worktrees directory.
    return path.is_dir() and not path.is_symlink()


def _remove_worktree(worktrees_dir: Path, owner: str, repo: str, path: Path) -> None:
    from bot.git import worktrees as workspace

    mirror = worktrees_dir.parent / "mirrors" / owner / f"{repo}.git"
    if mirror.is_dir():
        # Through git, under the mirror's lock, so the mirror forgets the worktree too and
        # a worker adding a worktree at the same moment is not disturbed.
        ref = git_cmd.RepoRef(owner, repo, url_template="", data_dir=worktrees_dir.parent)
        workspace.remove_worktree(ref, path)
    else:
        shutil.rmtree(path, ignore_errors=True)


async def cleanup(
    sessions: SessionFactory,
    older_than: timedelta,
    worktrees_dir: Path | None,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
) -> CleanupReport:
    cutoff = (now or utcnow()).astimezone(UTC) - older_than
    report = CleanupReport(cutoff=cutoff, dry_run=dry_run)
    async with sessions() as session, session.begin():
        counts = await _purge_rows(session, cutoff, dry_run)
        branches = await _finished_branches(session)
    report.deliveries, report.jobs = counts["deliveries"], counts["jobs"]
    report.events, report.worker_beats = counts["events"], counts["worker_beats"]
    report.records = counts["records"]

    if worktrees_dir is None:
        return report
    for owner, repo, path in await asyncio.to_thread(_old_worktrees, worktrees_dir, cutoff):
        match = _WORKTREE_NAME.match(path.name)
        finished = match and branches.get(f"{owner}/{repo}", {}).get(match["branch"])
        if not finished:  # unknown branch, or a task still active: keep it
            report.worktrees_kept.append(path)
            continue
        if not dry_run:
            try:
                await asyncio.to_thread(_remove_worktree, worktrees_dir, owner, repo, path)
            except Exception as exc:
                log.warning("cannot remove worktree %s: %s", path, exc)
                report.worktrees_kept.append(path)
                continue
        report.worktrees.append(path)
    return report
