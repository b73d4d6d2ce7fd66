"""Chaos benchmark: is every delivery acted on exactly once while processes die and the
database goes away? (a benchmark, not a test; issue 12)

    .venv/bin/python -m bench.chaos [--n 10000] [--workers 3] [--slots 4] [--lease 20]
                                    [--sqlite] [--seed 1] [--keep]

A fresh PostgreSQL database of the run's own (created and dropped here; `--sqlite`: a file),
reached by the app through a TCP proxy the run can cut. The GitHub stand-in
(bench/ghsim_server.py) in its own process; one `issuewright serve` (RUN_WORKER=false) and W
`issuewright worker --concurrency S` processes, JOB_LEASE_SECONDS=20. N signed
`issue_comment` deliveries of `/issuewright help`, a few comments per issue, sent over at
least 30 s; 10 % re-sent (half at the same moment, half later); a delivery answered with
anything but 2xx, or not at all, is re-sent a few seconds later, as GitHub's redeliver would.
Meanwhile: a worker SIGKILLed every 3-6 s and replaced, one worker SIGTERMed, the web process
SIGKILLed once and restarted 2 s later, the database cut off for 10 s (SQLite: its write lock
held). Then the queue drains (given up once no job has finished for max(60 s, 3 leases)),
every process stops, and the stand-in and the database are counted (bench/chaos_count.py):
lost, duplicated, missing, incomplete, stuck, unexpected, unacknowledged. Exits 1 when any of
them is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.apprun import (
    app_env,
    drop_pg_database,
    fresh_pg_database,
    plain_dsn,
    via_port,
)
from bench.chaos_count import FAILURES, tally
from bench.chaos_fleet import Fleet
from bench.chaos_send import Sender
from bench.ingest import free_port
from bench.standin import StandIn
from tests.ingest.tcp_proxy import TcpProxy

USER = "octocat"
INSTALLATIONS = 3


class Database:
    """The run's database as the bench reads it: directly, never through the proxy."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")

    async def rows(self, query: str) -> list[tuple[Any, ...]]:
        if self.sqlite:
            path = self.url.split("///", 1)[1]

            def read() -> list[tuple[Any, ...]]:
                with sqlite3.connect(path, timeout=60) as conn:
                    return list(conn.execute(query).fetchall())

            return await asyncio.to_thread(read)
        import asyncpg

        conn = await asyncpg.connect(plain_dsn(self.url), timeout=10)
        try:
            return [tuple(r) for r in await conn.fetch(query)]
        finally:
            await conn.close()

    async def job_counts(self) -> Counter[str]:
        rows = await self.rows("SELECT status, count(*) FROM jobs GROUP BY status")
        return Counter({status: int(n) for status, n in rows})


def make_deliveries(standin: StandIn, n: int, per_issue: int) -> list[dict[str, Any]]:
    """N help comments, `per_issue` in a row on each issue, issues spread over installations."""
    issues = math.ceil(n / per_issue / INSTALLATIONS)
    layout = standin.setup(
        accounts=[
            {"login": f"chaos-{k}", "repos": [{"name": "app", "issues": issues}]}
            for k in range(INSTALLATIONS)
        ],
        permissions=[
            {"repo": f"chaos-{k}/app", "user": USER, "perm": "admin"} for k in range(INSTALLATIONS)
        ],
    )
    lists = [[(name, num) for num in repo["issues"]] for name, repo in layout["repos"].items()]
    targets = [one[k] for k in range(issues) for one in lists]
    items = [
        {
            "repo": targets[i // per_issue][0],
            "number": targets[i // per_issue][1],
            "user": USER,
            "body": f"/issuewright help\n\n(chaos {i + 1})",
        }
        for i in range(n)
    ]
    return standin.comments(items)


async def chaos(fleet: Fleet, seconds: float, outage: float, calm: asyncio.Event) -> None:
    """One web kill, one SIGTERM, one outage at fixed points; worker kills every 3-6 s."""
    once = [
        asyncio.create_task(_at(0.15 * seconds, fleet.kill_web_and_restart(2.0))),
        asyncio.create_task(_at(0.3 * seconds, _call(fleet.term_worker))),
        asyncio.create_task(_at(0.5 * seconds, fleet.database_outage(outage))),
    ]
    while not calm.is_set():
        try:
            await asyncio.wait_for(calm.wait(), fleet.rng.uniform(3, 6))
        except TimeoutError:
            fleet.kill_worker()
    await asyncio.gather(*once)


async def _at(delay: float, action: Any) -> None:
    await asyncio.sleep(delay)
    await action


async def _call(fn: Any) -> None:
    fn()


async def run(args: argparse.Namespace, fleet: Fleet, sender: Sender, db: Database) -> dict:
    seconds = max(30.0, args.n / args.rate)
    await fleet.start_web()
    for _ in range(args.workers):
        fleet.start_worker()
    fleet.t0 = time.monotonic()
    calm = asyncio.Event()
    supervisor = asyncio.create_task(fleet.supervise())
    chaos_task = asyncio.create_task(chaos(fleet, seconds, args.outage, calm))
    await sender.run(seconds, args.resend)
    fleet.note("every delivery sent and acknowledged (or given up)")
    sent_at = time.monotonic()
    await asyncio.sleep(max(0.0, 0.5 * seconds + args.outage + 3 - (sent_at - fleet.t0)))
    calm.set()  # no more kills once the one-off events are over and everything is sent
    await chaos_task
    fleet.note(f"chaos over ({fleet.kills} worker SIGKILLs, {fleet.restarts} restarts)")
    drained = await wait_drained(db, fleet, stalled_after=max(60.0, 3.0 * args.lease))
    fleet.note("queue drained" if drained else "queue stalled: no job finished for a while")
    supervisor.cancel()
    return {"seconds": seconds, "sent": sent_at - fleet.t0, "end": time.monotonic() - fleet.t0}


async def wait_drained(db: Database, fleet: Fleet, stalled_after: float) -> bool:
    """Until no job is queued or running; False when none has finished for `stalled_after`
    seconds (a slow machine gets all the time it needs, a stuck queue does not)."""
    done, progress, last_print = -1, time.monotonic(), 0.0
    while True:
        counts = await db.job_counts()
        if counts["queued"] + counts["running"] == 0:
            return True
        if counts["done"] + counts["dead"] != done:
            done, progress = counts["done"] + counts["dead"], time.monotonic()
        elif time.monotonic() - progress > stalled_after:
            return False
        if time.monotonic() - last_print > 15:
            last_print = time.monotonic()
            print(f"  t={time.monotonic() - fleet.t0:5.0f}s draining: {dict(counts)}", flush=True)
        await asyncio.sleep(1)


async def count(sender: Sender, standin: StandIn, db: Database, workdir: Path) -> Any:
    stored = {d: s for d, s in await db.rows("SELECT delivery_id, status FROM deliveries")}
    jobs = [(d, s) for d, s in await db.rows("SELECT delivery_id, status FROM jobs")]
    effects = standin.effects()
    (workdir / "effects.json").write_text(json.dumps(effects))  # kept when the run fails
    return tally(list(sender.sent.values()), effects, stored, jobs)


def report(args: argparse.Namespace, fleet: Fleet, sender: Sender, times: dict, result: Any):
    kind = "SQLite" if args.sqlite else "PostgreSQL"
    resent = ", ".join(f"{n} {how}" for how, n in sorted(sender.resent.items()))
    print(
        f"chaos run: {args.n:,} deliveries ({resent} re-sent), {args.workers} workers x "
        f"{args.slots} slots, lease {args.lease} s, {kind}"
    )
    for at, what in fleet.events:
        print(f"  t={at:6.1f}s  {what}")
    for line in fleet.stopped_workers():
        print(f"  {line}")
    print(
        f"timings: sending planned over {times['seconds']:.0f} s, all acknowledged at "
        f"{times['sent']:.0f} s, drained at {times['end']:.0f} s "
        f"({args.n / times['end']:.1f} deliveries/s end to end)"
    )
    for name, value in result.info.items():
        print(f"  {name}: {value:,}")
    print("  ".join(f"{name} {getattr(result, name)}" for name in FAILURES))
    for example in result.examples:
        print(f"  {example}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="deliveries (default 10,000)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--slots", type=int, default=4, help="WORKER_CONCURRENCY of each worker")
    parser.add_argument("--lease", type=int, default=20, help="JOB_LEASE_SECONDS")
    parser.add_argument("--per-issue", type=int, default=3, help="comments on each issue")
    parser.add_argument("--resend", type=float, default=0.10, help="share re-sent")
    parser.add_argument("--rate", type=float, default=100.0, help="deliveries/s sent")
    parser.add_argument("--outage", type=float, default=10.0, help="database outage, seconds")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--validate", action="store_true", help="stand-in checks OpenAPI")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the logs and database")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="iw-chaos-"))
    pg_name = proxy = standin = fleet = None
    failed = True
    try:
        from bot.store.migrate import upgrade_sync

        if args.sqlite:
            sqlite_file: Path | None = workdir / "chaos.db"
            url = app_url = f"sqlite+aiosqlite:///{sqlite_file}"
        else:
            sqlite_file = None
            pg_name, url = fresh_pg_database("iw_chaos")
            proxy = TcpProxy("127.0.0.1", 5432).start()
            app_url = via_port(url, proxy.port)
        upgrade_sync(url)
        standin = StandIn(workdir, validate=args.validate)
        deliveries = make_deliveries(standin, args.n, args.per_issue)
        web_port = free_port()
        sender = Sender(web_port, deliveries, rng)
        env = app_env(
            workdir,
            app_url,
            standin.env(),
            RUN_WORKER="false",
            WORKER_CONCURRENCY=str(args.slots),
            JOB_LEASE_SECONDS=str(args.lease),
            INSTALLATION_MAX_CONCURRENT_JOBS=str(args.slots),
        )
        fleet = Fleet(
            workdir,
            env,
            web_port=web_port,
            slots=args.slots,
            proxy=proxy,
            sqlite_file=sqlite_file,
            rng=rng,
        )
        db = Database(url)

        async def whole() -> tuple[dict, Any]:
            times = await run(args, fleet, sender, db)
            fleet.stop_all()
            return times, await count(sender, standin, db, workdir)

        times, result = asyncio.run(whole())
        report(args, fleet, sender, times, result)
        failed = result.failed
        return 1 if failed else 0
    finally:
        if fleet is not None:
            fleet.stop_all()
        if standin is not None:
            standin.stop()
        if proxy is not None:
            proxy.stop()
        if args.keep or failed:
            print(f"logs kept in {workdir}" + (f"; database {pg_name}" if pg_name else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if pg_name and not (args.keep or failed):
            drop_pg_database(pg_name)


if __name__ == "__main__":
    sys.exit(main())
