"""The `issuewright` command line. Every error is one line that says what to do."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from bot.cli.output import PROG, fail
from bot.cli.tools import ToolError
from bot.core.env_values import SettingsError
from bot.settings import Settings

log = logging.getLogger("issuewright")


class CliError(Exception):
    """A user-fixable problem; printed as one line, exit status 2."""


def _settings() -> Settings:
    return Settings.from_env()


def _database_error(exc: BaseException, settings: Settings) -> CliError:
    from bot.logs import scrub
    from bot.store.db import redact_url

    # Drivers may quote the URL they were given (SQLAlchemy does for one it cannot parse):
    # the detail is scrubbed of the password like every log line.
    lines = str(exc).strip().splitlines()
    detail = scrub(lines[0][:200], settings.secrets()) if lines else "no detail"
    return CliError(
        f"cannot use the database at {redact_url(settings.database_url)} "
        f"({type(exc).__name__}: {detail}); check DATABASE_URL and that the server is running"
    )


# ---------------------------------------------------------------- server and worker


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.logs import configure_logging
    from bot.store.migrate import upgrade_sync

    settings = _settings()
    if args.port:
        settings = settings.with_(port=args.port)
    if args.host:
        settings = settings.with_(host=args.host)
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    try:
        upgrade_sync(settings.database_url)
    except Exception as exc:
        raise _database_error(exc, settings) from None
    extra: list[Any] = []
    announce: list[Any] = []
    try:
        from bot.web.setup import SetupGate, setup_routes

        # One setup code per process, printed once the app is up; a configured app has none.
        gate = None
        if not settings.has_app_credentials:
            where = settings.public_url or f"http://{settings.host}:{settings.port}"
            gate = SetupGate(url=f"{where.rstrip('/')}/setup")
            announce.append(gate.announce)
        extra = setup_routes(settings, gate=gate)
    except ImportError:
        pass
    app = create_app(settings, extra_routes=extra, on_startup=announce)
    log.info("serving on http://%s:%d", settings.host, settings.port)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) + 5,
    )
    return 0


async def _run_worker(settings: Settings, concurrency: int, once: bool) -> int:
    from bot.handlers import build_router
    from bot.jobs.worker import Worker
    from bot.runtime import HandlerContext
    from bot.store.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    github = None
    if settings.has_app_credentials:
        from bot.github.access import GitHubAccess

        github = GitHubAccess.from_settings(settings)
    ctx = HandlerContext(settings=settings, sessions=make_session_factory(engine), github=github)
    worker = Worker(ctx, build_router(), concurrency=concurrency)
    try:
        if once:
            count = await worker.drain()
            print(f"ran {count} job(s)")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await worker.beat()
        worker.start()
        log.info("worker %s running %d slot(s)", worker.worker_id, worker.concurrency)
        await stop.wait()
        log.info("stopping: no new jobs; finishing running ones")
        await worker.stop()
        return 0
    finally:
        if github is not None:
            await github.aclose()
        await engine.dispose()


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    concurrency = args.concurrency or settings.worker_concurrency or 1
    try:
        return asyncio.run(_run_worker(settings, concurrency, args.once))
    except (OSError, ConnectionError) as exc:
        raise _database_error(exc, settings) from None


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from bot.store.migrate import head_revision, upgrade_sync

    settings = _settings()
    try:
        upgrade_sync(settings.database_url)
    except Exception as exc:
        raise _database_error(exc, settings) from None
    print(f"database is at revision {head_revision()}")
    return 0


# ---------------------------------------------------------------- inspection


def _with_sessions(fn: Callable[[Any], Any]) -> Any:
    """Run an inspection against the existing database; never create one (SQLite would)."""
    from bot.store.db import make_engine, make_session_factory
    from bot.store.migrate import SchemaMissing, require_schema, sqlite_file_missing

    settings = _settings()
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
        raise _database_error(exc, settings) from None


def cmd_deliveries(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.store.models import Delivery

    async def fetch(sessions: Any) -> list[Any]:
        query = select(Delivery).order_by(Delivery.id.desc()).limit(args.limit)
        if args.status:
            query = query.where(Delivery.status == args.status)
        async with sessions() as session:
            return list((await session.execute(query)).scalars())

    rows = _with_sessions(fetch)
    if args.json:
        print(json.dumps([_delivery_dict(d) for d in rows], indent=2, default=str))
        return 0
    if not rows:
        print("no deliveries stored")
    for d in rows:
        what = f"{d.event}.{d.action}" if d.action else d.event
        reason = f"  ({d.reason})" if d.reason else ""
        print(f"{d.received_at:%Y-%m-%d %H:%M:%S}  {d.delivery_id}  {what:<34} {d.status}{reason}")
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
    from bot.store.queue import replay_delivery

    settings = _settings()

    async def run(sessions: Any) -> int:
        return await replay_delivery(sessions, args.delivery_id, settings.job_max_attempts)

    try:
        job_id = _with_sessions(run)
    except LookupError:
        raise CliError(
            f"no delivery {args.delivery_id!r} is stored; `issuewright deliveries` lists them"
        ) from None
    print(f"delivery {args.delivery_id} queued again as job {job_id}")
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

    rows = _with_sessions(fetch)
    if args.json:
        print(json.dumps([_job_dict(j) for j in rows], indent=2, default=str))
        return 0
    if not rows:
        print(f"no {'/'.join(statuses)} jobs")
    for j in rows:
        error = f"  last error: {j.last_error.splitlines()[0][:160]}" if j.last_error else ""
        ref = j.delivery_id or (f"task {j.task_id}" if j.task_id else "")
        tries = f"{j.attempts}/{j.max_attempts}"
        print(f"#{j.id:<6} {j.kind:<10} {j.status:<8} attempts {tries}  {ref}{error}")
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
        "run_after": j.run_after,
        "last_error": j.last_error,
    }


# ---------------------------------------------------------------- parser


def _version() -> str:
    try:
        return importlib.metadata.version("issuewright")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


class CliParser(argparse.ArgumentParser):
    """argparse, with the one error style of every command (`issuewright: error: …`) also for
    a subcommand's wrong argument (argparse would say `issuewright jobs: error: …`)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="issuewright", description="A GitHub App that turns labeled issues into pull requests."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("serve", help="run the web server (and an in-process worker)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run a worker process that claims jobs")
    p.add_argument("--concurrency", type=int, help="jobs run at once (default WORKER_CONCURRENCY)")
    p.add_argument("--once", action="store_true", help="run what is runnable now, then exit")
    p.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", metavar="ACTION"
    )
    db.required = True
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("deliveries", help="recent webhook deliveries and their status")
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--status", choices=["queued", "done", "dead", "ignored", "skipped"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_deliveries)

    p = sub.add_parser("replay", help="queue a stored delivery again")
    p.add_argument("delivery_id")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("jobs", help="queued, running and dead jobs")
    p.add_argument("--status", choices=["queued", "running", "dead", "done", "cancelled"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jobs)

    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Commands of other modules (plan, apply, context, prompts, stats, cleanup)."""
    from bot.cli.tools import register_tools

    return [register_tools]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, SettingsError, ToolError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`issuewright jobs | head`): stop quietly, as `cat` would, and
        # keep Python from printing a second error while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
