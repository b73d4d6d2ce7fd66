"""`issuewright deliveries`, `jobs` and `replay`: what the database holds, read without ever
creating one."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from bot.cli.output import CliError, database_error, load_settings, print_json, utc
from bot.cli.table import Column, print_table
from bot.settings import Settings


def run_on_database(fn: Callable[[Any], Any], settings: Settings | None = None) -> Any:
    """Run `fn(sessions)` against the existing, migrated database; never create one (SQLite
    would). Every problem is a `CliError` that says what to do."""
    from bot.store.db import make_engine, make_session_factory
    from bot.store.migrate import SchemaMissing, require_schema, sqlite_file_missing

    settings = settings or load_settings()
    missing = sqlite_file_missing(settings.database_url)
    if missing is not None:
        raise CliError(
            f"no database at {missing}: run `issuewright db upgrade` first, or set "
            "DATABASE_URL to the server's database"
        )

    async def run() -> Any:
        engine = make_engine(settings.database_url)
        try:
            await require_schema(engine)
            return await fn(make_session_factory(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except SchemaMissing as exc:
        raise CliError(str(exc)) from None
    except (LookupError, CliError):
        raise
    except Exception as exc:
        raise database_error(exc, settings) from None


def cmd_deliveries(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.store.models import Delivery

    async def fetch(sessions: Any) -> list[Any]:
        query = select(Delivery).order_by(Delivery.id.desc()).limit(args.limit)
        if args.status:
            query = query.where(Delivery.status == args.status)
        async with sessions() as session:
            return list((await session.execute(query)).scalars())

    rows = run_on_database(fetch)
    if args.json:
        print_json({"deliveries": [_delivery_dict(d) for d in rows]})
        return 0
    if not rows:
        print("no deliveries stored")
        return 0
    print_table(
        ["received (UTC)", "delivery", "event", "status", "reason"],
        [
            (
                f"{utc(d.received_at):%Y-%m-%d %H:%M:%S}",
                d.delivery_id,
                f"{d.event}.{d.action}" if d.action else d.event,
                d.status,
                d.reason,
            )
            for d in rows
        ],
    )
    return 0


def _delivery_dict(d: Any) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "event": d.event,
        "action": d.action,
        "repository": d.repository,
        "installation_id": d.installation_id,
        "status": d.status,
        "reason": d.reason,
        "received_at": d.received_at,
    }


def cmd_replay(args: argparse.Namespace) -> int:
    if (args.delivery_id is None) == (args.job is None):
        raise CliError(
            "name a delivery id or `--job ID`, not both: `issuewright deliveries` and "
            "`issuewright jobs --status dead` list them"
        )
    if args.job is not None:
        return _replay_job(args)
    from bot.store.queue import replay_delivery

    settings = load_settings()

    async def run(sessions: Any) -> int:
        return await replay_delivery(sessions, args.delivery_id, settings.job_max_attempts)

    try:
        job_id = run_on_database(run)
    except LookupError:
        raise CliError(
            f"no delivery {args.delivery_id!r} is stored; `issuewright deliveries` lists them"
        ) from None
    if args.json:
        print_json({"delivery_id": args.delivery_id, "job_id": job_id})
    else:
        print(f"delivery {args.delivery_id} queued again as job {job_id}")
    return 0


def _replay_job(args: argparse.Namespace) -> int:
    """A dead job of any kind (a generate job has no delivery) queued again, as the
    dashboard's Replay button does."""
    from bot.store.dead_jobs import requeue_dead_job

    if not run_on_database(lambda sessions: requeue_dead_job(sessions, args.job)):
        raise CliError(
            f"job {args.job} is not a dead job; `issuewright jobs --status dead` lists them"
        )
    if args.json:
        print_json({"job_id": args.job})
    else:
        print(f"job {args.job} queued again")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.store.models import Job

    statuses = [args.status] if args.status else ["queued", "running", "dead"]

    async def fetch(sessions: Any) -> list[Any]:
        query = (
            select(Job).where(Job.status.in_(statuses)).order_by(Job.id.desc()).limit(args.limit)
        )
        async with sessions() as session:
            return list((await session.execute(query)).scalars())

    rows = run_on_database(fetch)
    if args.json:
        print_json({"jobs": [_job_dict(j) for j in rows]})
        return 0
    if not rows:
        print(f"no {'/'.join(statuses)} jobs")
        return 0
    print_table(
        [Column("job", right=True), "kind", "status", "attempts", "for", "last error"],
        [
            (
                j.id,
                j.kind,
                j.status,
                f"{j.attempts}/{j.max_attempts}",
                j.delivery_id or (f"task {j.task_id}" if j.task_id else None),
                j.last_error.splitlines()[0][:160] if j.last_error else None,
            )
            for j in rows
        ],
    )
    return 0


def _job_dict(j: Any) -> dict[str, Any]:
    return {
        "id": j.id,
        "kind": j.kind,
        "status": j.status,
        "attempts": j.attempts,
        "max_attempts": j.max_attempts,
        "delivery_id": j.delivery_id,
        "task_id": j.task_id,
        "created_at": j.created_at,
        "run_after": j.run_after,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
        "last_error": j.last_error,
    }
