"""A worker process for the crash and shutdown tests:
`python -m tests.ingest.worker_proc URL [GRACE [SQLITE_BUSY_MS]]`.

Its only job kind, "block", prints `started <job id>` and waits for a line on stdin before
finishing, so the test decides exactly when a job is mid-way (no sleeps for timing).
SQLITE_BUSY_MS shortens how long a SQLite write waits for a lock another process holds
before failing with "database is locked" (15 s in the app).
"""

from __future__ import annotations

import asyncio
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


def _short_busy_timeout(busy_ms: int) -> Callable[[Any, Any], None]:
    def set_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return set_timeout


async def main(url: str, grace: float, busy_ms: int | None = None) -> None:
    router = Router()

    @router.job("block")
    async def block(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
        print(f"started {job_id}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        print(f"finished {job_id}", flush=True)

    engine = make_engine(url)
    if busy_ms is not None:  # after the app's own pragmas, so it wins
        event.listen(engine.sync_engine, "connect", _short_busy_timeout(busy_ms))
    settings = Settings(database_url=url, job_lease_seconds=30, shutdown_grace_seconds=grace)
    worker = Worker(
        HandlerContext(settings=settings, sessions=make_session_factory(engine)),
        router,
        concurrency=1,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    worker.start()
    print("ready", flush=True)
    await stop.wait()
    await worker.stop()
    await engine.dispose()
    print("stopped", flush=True)


if __name__ == "__main__":
    grace = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    asyncio.run(main(sys.argv[1], grace, int(sys.argv[3]) if len(sys.argv) > 3 else None))
