"""`stats` and `cleanup` on a database holding a scripted history with known timestamps."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.maintenance import cli_cleanup, cli_stats
from bot.ops.cleanup import cleanup
from bot.ops.stats import SpendRow, compute_stats, parse_duration
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import Attempt, Delivery, Event, IssueRun, Job, Task, WorkerBeat, utcnow
from tests.conftest import make_settings

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@dataclass
class History:
    sessions: SessionFactory
    now: datetime
    tasks: dict[str, int]  # name → id
    jobs: dict[str, int]


async def script(sessions: SessionFactory) -> History:
    """Two issue runs (40 days and 3 days ago), their tasks, attempts, jobs, deliveries and
    events. Every figure the tests expect is worked out from this, in comments."""
    now = utcnow().replace(microsecond=0)
    ago = lambda delta: now - delta  # noqa: E731
    async with sessions() as session, session.begin():
        old_run = IssueRun(
            repository="o/r", issue_number=1, installation_id=101, created_at=ago(40 * DAY)
        )
        new_run = IssueRun(
            repository="o/r", issue_number=2, installation_id=202, created_at=ago(3 * DAY)
        )
        session.add_all([old_run, new_run])
        await session.flush()
        # name: (run, ordinal, state, created, pr opened (label → PR wait), branch)
        specs = {
            "t1": (old_run, 1, "merged", ago(40 * DAY), 2 * HOUR, "issuewright/1-1"),
            "t2": (old_run, 2, "closed", ago(40 * DAY), 4 * HOUR, "issuewright/1-2"),
            "t3": (old_run, 3, "failed", ago(40 * DAY), None, "issuewright/1-3"),
            "t4": (new_run, 1, "merged", ago(3 * DAY), 1 * HOUR, "issuewright/2-1"),
            "t5": (new_run, 2, "checks_failed", ago(3 * DAY), 3 * HOUR, "issuewright/2-2"),
            "t6": (new_run, 3, "generating", ago(3 * DAY), None, "issuewright/2-3"),
            "t7": (new_run, 4, "queued", ago(2 * DAY), None, None),
            # Cancelled, but its attempt still runs until the next safe point (job j9).
            "t8": (new_run, 5, "cancelled", ago(2 * DAY), None, "issuewright/2-5"),
        }
        tasks = {}
        for name, (run, ordinal, state, created, wait, branch) in specs.items():
            task = Task(
                key=f"o/r#{run.issue_number}/{ordinal}",
                run_id=run.id,
                repository="o/r",
                issue_number=run.issue_number,
                ordinal=ordinal,
                title=name,
                task_type="feature",
                state=state,
                created_at=created,
                branch=branch,
                pr_opened_at=run.created_at + wait if wait else None,
            )
            session.add(task)
            await session.flush()
            tasks[name] = task.id
        # (task, kind, installation, model, in, out, cost, outcome, started)
        for t, kind, inst, model, tin, tout, cost, outcome, started in [
            ("t1", "generate", 101, "gpt-4o", 1000, 200, 0.01, "success", ago(40 * DAY)),
            ("t2", "generate", 101, "gpt-4o", 2000, 300, 0.02, "success", ago(40 * DAY)),
            ("t2", "ci_fix", 101, "gpt-4o", 500, 100, 0.005, "failed", ago(39 * DAY)),
            ("t4", "generate", 202, "claude-x", 3000, 400, 0.30, "success", ago(3 * DAY)),
            ("t5", "generate", 202, "claude-x", 1000, 100, 0.10, "success", ago(3 * DAY)),
            ("t5", "ci_fix", 202, "claude-x", 800, 80, 0.08, "success", ago(2 * DAY)),
            ("t5", "ci_fix", 202, "claude-x", 700, 70, 0.07, "failed", ago(1 * DAY)),
            ("t5", "ci_fix", 202, "gpt-4o", 100, 10, 0.001, "running", ago(HOUR)),
        ]:
            session.add(
                Attempt(
                    task_id=tasks[t],
                    kind=kind,
                    installation_id=inst,
                    model=model,
                    input_tokens=tin,
                    output_tokens=tout,
                    cost_usd=cost,
                    outcome=outcome,
                    started_at=started,
                )
            )
        for delivery_id, status, received in [
            ("d-old-done", "done", ago(40 * DAY)),
            ("d-old-ignored", "ignored", ago(35 * DAY)),
            ("d-old-skipped", "skipped", ago(35 * DAY)),
            ("d-old-dead", "dead", ago(31 * DAY)),
            ("d-old-queued", "queued", ago(40 * DAY)),
            ("d-old-replayed", "done", ago(40 * DAY)),  # its replay job is running
            ("d-new-done", "done", ago(DAY)),
        ]:
            session.add(
                Delivery(
                    delivery_id=delivery_id,
                    event="issues",
                    payload="{}",
                    status=status,
                    received_at=received,
                )
            )
        jobs = {}
        for name, kind, delivery, task, status, created, finished in [
            ("j1", "delivery", "d-old-done", None, "done", ago(40 * DAY), ago(40 * DAY)),
            ("j2", "delivery", "d-old-dead", None, "dead", ago(31 * DAY), ago(31 * DAY)),
            ("j3", "generate", None, "t3", "dead", ago(39 * DAY), ago(39 * DAY)),
            ("j4", "ci_fix", None, "t5", "done", ago(39 * DAY), ago(39 * DAY)),  # active task
            ("j5", "delivery", "d-old-queued", None, "queued", ago(40 * DAY), None),
            ("j6", "delivery", "d-old-replayed", None, "running", ago(40 * DAY), None),
            ("j7", "generate", None, None, "cancelled", ago(35 * DAY), None),  # never ran
            ("j8", "delivery", "d-new-done", None, "done", ago(DAY), ago(DAY)),
            ("j9", "generate", None, "t8", "running", ago(HOUR), None),
        ]:
            job = Job(
                kind=kind,
                delivery_id=delivery,
                task_id=tasks[task] if task else None,
                status=status,
                created_at=created,
                run_after=created,
                finished_at=finished,
            )
            session.add(job)
            await session.flush()
            jobs[name] = job.id
        for task, job, at in [
            ("t1", None, ago(40 * DAY)),  # removed
            ("t5", None, ago(40 * DAY)),  # kept: active task
            (None, "j5", ago(40 * DAY)),  # kept: its job is queued
            (None, None, ago(40 * DAY)),  # removed
            ("t1", None, ago(DAY)),  # kept: recent
        ]:
            session.add(
                Event(
                    task_id=tasks[task] if task else None,
                    job_id=jobs[job] if job else None,
                    stage="x",
                    at=at,
                )
            )
        session.add_all(
            [
                WorkerBeat(worker_id="gone", beat_at=ago(31 * DAY)),
                WorkerBeat(worker_id="alive", beat_at=now),
            ]
        )
    return History(sessions, now, tasks, jobs)


@pytest.fixture
async def history(database_url: str) -> AsyncIterator[History]:
    engine = make_engine(database_url)
    yield await script(make_session_factory(engine))
    await engine.dispose()


# ---------------------------------------------------------------- stats


async def test_stats_all_time(history: History) -> None:
    stats = await compute_stats(history.sessions, None, now=history.now)
    assert stats.tasks_by_state == {
        "cancelled": 1,
        "checks_failed": 1,
        "closed": 1,
        "failed": 1,
        "generating": 1,
        "merged": 2,
        "queued": 1,
    }
    # PRs opened: t1, t2, t4, t5; merged: t1, t4.
    assert (stats.prs_merged, stats.prs_opened, stats.merge_rate) == (2, 4, 0.5)
    # Finished ci_fix attempts: failed, success, failed (the running one is not counted).
    assert (stats.ci_fix_succeeded, stats.ci_fix_finished) == (1, 3)
    assert stats.ci_fix_success_rate == pytest.approx(1 / 3)
    assert stats.median_label_to_pr == timedelta(hours=2, minutes=30)  # of 1h, 2h, 3h, 4h
    assert stats.spend == [
        SpendRow(202, "claude-x", 4, 5500, 650, pytest.approx(0.55)),  # type: ignore[arg-type]
        SpendRow(101, "gpt-4o", 3, 3500, 600, pytest.approx(0.035)),  # type: ignore[arg-type]
        SpendRow(202, "gpt-4o", 1, 100, 10, pytest.approx(0.001)),  # type: ignore[arg-type]
    ]
    assert stats.total_cost_usd == pytest.approx(0.586)


async def test_stats_last_7_days(history: History) -> None:
    stats = await compute_stats(history.sessions, parse_duration("7d"), now=history.now)
    assert stats.since == history.now - 7 * DAY
    assert stats.tasks_by_state == {
        "cancelled": 1,
        "checks_failed": 1,
        "generating": 1,
        "merged": 1,
        "queued": 1,
    }
    assert (stats.prs_merged, stats.prs_opened) == (1, 2)  # t4 merged of t4, t5
    assert (stats.ci_fix_succeeded, stats.ci_fix_finished) == (1, 2)
    assert stats.median_label_to_pr == 2 * HOUR  # of 1h and 3h
    assert [(r.installation_id, r.model, r.calls) for r in stats.spend] == [
        (202, "claude-x", 4),
        (202, "gpt-4o", 1),
    ]


async def test_stats_on_an_empty_database(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        stats = await compute_stats(make_session_factory(engine), DAY)
    finally:
        await engine.dispose()
    assert stats.merge_rate is None and stats.ci_fix_success_rate is None
    assert stats.median_label_to_pr is None and stats.spend == []


# ---------------------------------------------------------------- cleanup


async def rows(sessions: SessionFactory) -> dict[str, set[object]]:
    async with sessions() as session:
        return {
            "deliveries": set((await session.execute(select(Delivery.delivery_id))).scalars()),
            "jobs": set((await session.execute(select(Job.id))).scalars()),
            "events": set(
                (
                    await session.execute(
                        select(Event.stage, Event.task_id, Event.job_id, Event.at)
                    )
                ).all()
            ),
            "tasks": set((await session.execute(select(Task.id))).scalars()),
            "attempts": set((await session.execute(select(Attempt.id))).scalars()),
            "beats": set((await session.execute(select(WorkerBeat.worker_id))).scalars()),
        }


async def test_cleanup_removes_finished_history_only(history: History) -> None:
    before = await rows(history.sessions)
    stats_before = await compute_stats(history.sessions, None, now=history.now)

    dry = await cleanup(history.sessions, 30 * DAY, None, now=history.now, dry_run=True)
    assert await rows(history.sessions) == before  # a dry run removes nothing

    report = await cleanup(history.sessions, 30 * DAY, None, now=history.now)
    counts = lambda r: (r.deliveries, r.jobs, r.events, r.worker_beats)  # noqa: E731
    assert counts(report) == counts(dry) == (4, 4, 2, 1)
    after = await rows(history.sessions)
    assert after["deliveries"] == {"d-old-queued", "d-old-replayed", "d-new-done"}
    j = history.jobs
    assert after["jobs"] == {j["j4"], j["j5"], j["j6"], j["j8"], j["j9"]}
    assert len(after["events"]) == 3
    assert after["beats"] == {"alive"}
    # Tasks and attempts are the record stats read: untouched, and the figures unchanged.
    assert after["tasks"] == before["tasks"] and after["attempts"] == before["attempts"]
    assert await compute_stats(history.sessions, None, now=history.now) == stats_before

    again = await cleanup(history.sessions, 30 * DAY, None, now=history.now)
    assert counts(again) == (0, 0, 0, 0)


async def test_cleanup_with_a_longer_retention_keeps_more(history: History) -> None:
    report = await cleanup(history.sessions, 36 * DAY, None, now=history.now)
    # Only what is older than 36 days: d-old-done; j1, j3; both 40-day-old removable events.
    assert (report.deliveries, report.jobs, report.events, report.worker_beats) == (1, 2, 2, 0)


def make_dir(path: Path, mtime: datetime) -> Path:
    path.mkdir(parents=True)
    (path / "file.py").write_text("x = 1\n")
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


async def test_cleanup_removes_worktrees_of_finished_tasks(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    try:
        h = await script(sessions)
        root = tmp_path / "worktrees"
        repo = root / "o" / "r"
        old, new = h.now - 40 * DAY, h.now - DAY
        merged = make_dir(repo / "issuewright-1-1-aaaaaaaa", old)  # t1 merged: removed
        active = make_dir(repo / "issuewright-2-2-bbbbbbbb", old)  # t5 checks_failed: kept
        running = make_dir(repo / "issuewright-2-5-cccccccc", old)  # t8 cancelled, job runs
        recent = make_dir(repo / "issuewright-1-2-dddddddd", new)  # t2 closed, too recent
        unknown = make_dir(repo / "something-else-eeeeeeee", old)  # no task: kept
        other = make_dir(root / "x" / "y" / "issuewright-1-1-ffffffff", old)  # other repo
        (repo / "notes.txt").write_text("not a worktree")

        dry = await cleanup(sessions, 30 * DAY, root, now=h.now, dry_run=True)
        assert dry.worktrees == [merged] and merged.exists()

        report = await cleanup(sessions, 30 * DAY, root, now=h.now)
        assert report.worktrees == [merged]
        assert not merged.exists()
        assert all(p.exists() for p in (active, running, recent, unknown, other))
        assert sorted(report.worktrees_kept) == sorted([active, running, unknown, other])
    finally:
        await engine.dispose()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


async def test_cleanup_removes_a_real_worktree_through_its_mirror(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Laid out like bot/git/worktrees.py: data/mirrors/o/r.git and data/worktrees/o/r/<dir>."""
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    try:
        h = await script(sessions)
        source = tmp_path / "src"
        source.mkdir()
        git("init", "-q", "-b", "main", cwd=source)
        (source / "a.txt").write_text("a\n")
        git("add", ".", cwd=source)
        git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "a", cwd=source)
        mirror = tmp_path / "data" / "mirrors" / "o" / "r.git"
        mirror.parent.mkdir(parents=True)
        git("clone", "-q", "--bare", str(source), str(mirror), cwd=tmp_path)
        worktree = tmp_path / "data" / "worktrees" / "o" / "r" / "issuewright-1-1-0123abcd"
        git("worktree", "add", "-q", "-b", "issuewright/1-1", str(worktree), "main", cwd=mirror)
        old = (h.now - 40 * DAY).timestamp()
        os.utime(worktree, (old, old))

        report = await cleanup(sessions, 30 * DAY, worktree.parent.parent.parent, now=h.now)
        assert report.worktrees == [worktree] and not worktree.exists()
        assert str(worktree) not in git("worktree", "list", "--porcelain", cwd=mirror)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", 7 * DAY),
        ("12h", 12 * HOUR),
        ("30m", timedelta(minutes=30)),
        ("2w", 14 * DAY),
        (" 1D12h ", DAY + 12 * HOUR),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "7 days", "-1d", "0d", "1.5h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*(e\.g\. 7d|longer than zero)"):
        parse_duration(text)


async def test_cli_stats_and_cleanup(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(sqlite_url)
    await script(make_session_factory(engine))
    await engine.dispose()
    settings = make_settings(tmp_path, sqlite_url)

    assert await asyncio.to_thread(cli_stats, settings, None, True) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["prs_opened"], data["prs_merged"], data["merge_rate"]) == (4, 2, 0.5)
    assert data["median_label_to_pr_seconds"] == 9000
    assert data["spend"][0]["model"] == "claude-x"

    assert await asyncio.to_thread(cli_stats, settings, "7d", False) == 0
    out = capsys.readouterr().out
    assert "last 7d" in out and "PR merge rate        1/2  50.0%" in out
    assert "Median label to PR   2h" in out and "claude-x" in out

    assert await asyncio.to_thread(cli_cleanup, settings, "30d", True) == 0
    out = capsys.readouterr().out
    assert out.startswith("would remove 4 deliveries, 4 jobs, 2 events, 1 worker heartbeat")
    assert await asyncio.to_thread(cli_cleanup, settings, "30d", False) == 0
    assert capsys.readouterr().out.startswith("removed 4 deliveries, 4 jobs")


@pytest.mark.parametrize("command", ["stats", "cleanup"])
async def test_cli_errors_are_one_line(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(settings: object, duration: str) -> int:
        if command == "stats":
            return cli_stats(settings, duration, False)  # type: ignore[arg-type]
        return cli_cleanup(settings, duration, False)  # type: ignore[arg-type]

    unreachable = make_settings(tmp_path, "postgresql://nobody:secret@127.0.0.1:1/none")
    assert await asyncio.to_thread(run, unreachable, "7d") == 2
    err = capsys.readouterr()
    assert err.out == "" and len(err.err.strip().splitlines()) == 1
    assert "cannot use the database" in err.err and "secret" not in err.err

    assert await asyncio.to_thread(run, unreachable, "7 days") == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "invalid duration '7 days'" in err
