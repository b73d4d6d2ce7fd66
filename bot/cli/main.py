"""The `issuewright` command line. Every error is one line that says what to do."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from bot.cli.inspect import cmd_deliveries, cmd_jobs, cmd_replay
from bot.cli.output import (
    AS_JSON,
    PROG,
    CliError,
    database_error,
    fail,
    load_settings,
    print_json,
    version,
)
from bot.core.env_values import SettingsError
from bot.settings import Settings

log = logging.getLogger("issuewright")


# ---------------------------------------------------------------- server and worker


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.logs import configure_logging
    from bot.store.migrate import upgrade_sync

    settings = load_settings()
    if args.port:
        settings = settings.with_(port=args.port)
    if args.host:
        settings = settings.with_(host=args.host)
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    try:
        upgrade_sync(settings.database_url)
    except Exception as exc:
        raise database_error(exc, settings) from None
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

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    concurrency = args.concurrency or settings.worker_concurrency or 1
    try:
        return asyncio.run(_run_worker(settings, concurrency, args.once))
    except (OSError, ConnectionError) as exc:
        raise database_error(exc, settings) from None


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store.migrate import head_revision, upgrade_sync

    settings = load_settings()
    try:
        upgrade_sync(settings.database_url)
    except Exception as exc:
        raise database_error(exc, settings) from None
    if args.json:
        print_json({"revision": head_revision()})
    else:
        print(f"database is at revision {head_revision()}")
    return 0


# ---------------------------------------------------------------- parser


class CliParser(argparse.ArgumentParser):
    """argparse, with the one error style of every command (`issuewright: error: …`) also for
    a subcommand's wrong argument (argparse would say `issuewright jobs: error: …`)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="issuewright",
        description="A GitHub App that turns labeled issues into pull requests.",
        epilog="`issuewright COMMAND --help` describes a command and its options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("serve", help="run the web server (and an in-process worker)")
    p.add_argument(
        "--host", metavar="ADDRESS", help="the address to listen on (default HOST, 127.0.0.1)"
    )
    p.add_argument(
        "--port", metavar="PORT", type=int, help="the port to listen on (default PORT, 3000)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run a worker process that claims jobs")
    p.add_argument(
        "--concurrency", metavar="N", type=int, help="jobs run at once (default WORKER_CONCURRENCY)"
    )
    p.add_argument("--once", action="store_true", help="run what is runnable now, then exit")
    p.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", metavar="ACTION"
    )
    db.required = True
    p = db.add_parser("upgrade", help="apply migrations (DATABASE_URL; safe to run again)")
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("deliveries", help="recent webhook deliveries and their status")
    p.add_argument(
        "--limit", metavar="N", type=int, default=30, help="show at most N, newest first (30)"
    )
    p.add_argument(
        "--status",
        choices=["queued", "done", "dead", "ignored", "skipped"],
        help="only deliveries with this status",
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_deliveries)

    p = sub.add_parser("replay", help="queue a stored delivery, or a dead job, again")
    p.add_argument(
        "delivery_id", nargs="?", help="the X-GitHub-Delivery id (`issuewright deliveries`)"
    )
    p.add_argument(
        "--job",
        type=int,
        metavar="ID",
        help="a dead job instead (`issuewright jobs --status dead`), of any kind",
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("jobs", help="queued, running and dead jobs")
    p.add_argument(
        "--status",
        choices=["queued", "running", "dead", "done", "cancelled"],
        help="only jobs with this status (default: queued, running and dead)",
    )
    p.add_argument(
        "--limit", metavar="N", type=int, default=50, help="show at most N, newest first (50)"
    )
    p.add_argument("--json", action="store_true", help=AS_JSON)
    p.set_defaults(func=cmd_jobs)

    for register in _extensions():
        register(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """A command's `--help` starts with the line its parent lists it with, so the two never
    disagree (and a command registered elsewhere gets one too)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, child in action.choices.items():
            text = helps.get(name)
            if child.description is None and isinstance(text, str):
                child.description = text[:1].upper() + text[1:] + "."
            _describe(child)


def _extensions() -> list[Callable[[Any], None]]:
    """Commands of other modules (plan, apply, context, prompts, stats, cleanup, tasks, task,
    run, check)."""
    from bot.cli.check import register_check
    from bot.cli.run import register_run
    from bot.cli.tasks import register_tasks
    from bot.cli.tools import register_tools

    return [register_tools, register_tasks, register_run, register_check]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, SettingsError) as exc:
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
