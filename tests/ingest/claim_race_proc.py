"""One of several processes racing claims: `python -m tests.ingest.claim_race_proc URL NAME`.

Claims jobs until none is left queued. For every job it claims it prints
`claimed <id> <key> <running>` where <running> is how many jobs of that concurrency key are
running at that moment (its own included: 1 unless the exclusion failed), then completes it.
Prints `ready` first and waits for a line on stdin, so every process starts racing at once.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import func, select

from bot.store import queue
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Job


async def main(url: str, name: str) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    while True:
        job = await queue.claim_next_job(sessions, name, 30)
        if job is None:
            async with sessions() as session:
                left = (
                    await session.execute(
                        select(func.count()).select_from(Job).where(Job.status == "queued")
                    )
                ).scalar_one()
            if not left:
                break
            await asyncio.sleep(0)  # others hold the keys that are left; try again
            continue
        async with sessions() as session:
            key, running = (
                await session.execute(
                    select(Job.concurrency_key, func.count())
                    .where(Job.status == "running")
                    .where(
                        Job.concurrency_key
                        == select(Job.concurrency_key).where(Job.id == job.id).scalar_subquery()
                    )
                    .group_by(Job.concurrency_key)
                )
            ).one()
        print(f"claimed {job.id} {key} {running}", flush=True)
        await queue.complete(sessions, job, name)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
