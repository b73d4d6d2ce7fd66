"""A worker process for the stop-during-claim test: `python -m tests.ingest.stop_worker_proc URL`.

Like worker_proc (its "block" job prints `started <id>` and waits for a line on stdin), with
two slots, the worker's log on stdout (the test waits for what it says), and `stopping`
printed when SIGTERM arrives, just before the worker is told to stop. On SQLite it prints
`claim-sent` right before each claim statement runs and `claim-done` once it has, so the test
can tell a claim waiting on a lock it holds (PostgreSQL shows that in pg_locks).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bot.jobs.dispatch import Router
from bot.jobs.worker import Worker
from bot.runtime import HandlerContext
from bot.settings import Settings
from bot.store.db import make_engine, make_session_factory


def _claim_marker(text: str) -> Callable[..., None]:
    def mark(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The claim is the one UPDATE of jobs that returns the row it took.
        if statement.lstrip().upper().startswith("UPDATE JOBS") and "RETURNING" in statement:
            print(text, flush=True)

    return mark


async def main(url: str) -> None:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="log %(message)s")
    router = Router()

    @router.job("block")
    async def block(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        print(f"started {job_id}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        print(f"finished {job_id}", flush=True)

    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "before_cursor_execute", _claim_marker("claim-sent"))
        event.listen(engine.sync_engine, "after_cursor_execute", _claim_marker("claim-done"))
    settings = Settings(database_url=url, job_lease_seconds=30, shutdown_grace_seconds=60)
    worker = Worker(
        HandlerContext(settings=settings, sessions=make_session_factory(engine)),
        router,
        concurrency=2,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    worker.start()
    print("ready", flush=True)
    await stop.wait()
    print("stopping", flush=True)
    await worker.stop()
    await engine.dispose()
    print("stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
