"""Worker throughput: one real worker process draining simple command jobs (a benchmark,
not a test).

    .venv/bin/python -m bench.worker [--jobs 10000] [--concurrency 4] [--sqlite]
                                     [--validate] [--profile OUT.prof]

The GitHub stand-in (bench/ghsim_server.py, OpenAPI checks off unless `--validate`) runs in
its own process. `--jobs` `/issuewright help` comments are made on it, spread over four
installations; their `issue_comment` deliveries are stored through the real receiver
(create_app, signed POSTs) in a fresh PostgreSQL database (or SQLite with `--sqlite`). Then
one `issuewright worker --concurrency N` process (the real router and handlers, settings
from the environment, LOG_LEVEL=INFO as in production) drains them. Each job reads the
commenter's permission, reacts 👀, looks for an earlier reply, replies, reacts 🚀.

Printed per thousand jobs: jobs/s and the worker's CPU ms per job; beside them, in the same
run and against the same stand-in, the same calls made directly with githubkit
(bench/worker_baseline.py, same count and concurrency). Goal: >= 50 jobs/s per worker
process, CPU per job flat from the first to the last thousand. `--profile` runs the worker
under cProfile (CPU time) and writes its stats to OUT.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.apprun import (
    ROOT,
    SECRET,
    app_env,
    drop_pg_database,
    fresh_pg_database,
    help_comments,
    plain_dsn,
    signed,
)
from bench.standin import StandIn, process_cpu_seconds
from bench.worker_baseline import run_baseline

USER = "octocat"
INSTALLATIONS = 4
COMMANDS_PER_ISSUE = 5
Mark = tuple[int, float, float]  # (jobs done, monotonic seconds, CPU seconds)


def make_comments(standin: StandIn, jobs: int) -> tuple[list[dict], list[dict]]:
    """`jobs` help comments on the app's repositories and as many on the baseline's, each
    repository with the same issues; returns both lists of deliveries."""
    issues = max(1, jobs // (INSTALLATIONS * COMMANDS_PER_ISSUE))
    names = ("app", "base")
    accounts = [
        {"login": f"bench-{k}", "repos": [{"name": n, "issues": issues} for n in names]}
        for k in range(INSTALLATIONS)
    ]
    grants = [
        {"repo": f"bench-{k}/{n}", "user": USER, "perm": "admin"}
        for k in range(INSTALLATIONS)
        for n in names
    ]
    repos = standin.setup(accounts=accounts, permissions=grants)["repos"]
    app, base = ({k: v for k, v in repos.items() if k.endswith(f"/{n}")} for n in names)
    return (
        standin.comments(help_comments(app, USER, jobs)),
        standin.comments(help_comments(base, USER, jobs)),
    )


async def store_deliveries(
    url: str, deliveries: list[dict], workdir: Path, github: dict[str, str]
) -> None:
    """Through the real receiver: signed POSTs to create_app's webhook route."""
    from litestar.testing import AsyncTestClient

    from bot.app import create_app
    from bot.settings import Settings

    settings = Settings(
        webhook_secret=SECRET,
        database_url=url,
        run_worker=False,
        data_dir=workdir / "data",
        app_id=github["APP_ID"],
        private_key=github["PRIVATE_KEY"],
        github_api_url=github["GITHUB_API_URL"],
    )
    async with AsyncTestClient(create_app(settings)) as client:
        for start in range(0, len(deliveries), 64):
            chunk = deliveries[start : start + 64]
            answers = await asyncio.gather(
                *(
                    client.post("/webhooks/github", content=b, headers=h)
                    for b, h in map(signed, chunk)
                )
            )
            bad = [a.status_code for a in answers if a.status_code != 202]
            if bad:
                raise SystemExit(f"the receiver answered {bad[0]} while storing the jobs")


async def jobs_done(url: str) -> int:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with sqlite3.connect(path, timeout=30) as conn:
            return int(conn.execute("SELECT count(*) FROM jobs WHERE status='done'").fetchone()[0])
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM jobs WHERE status='done'"))
    finally:
        await conn.close()


async def watch_worker(proc: subprocess.Popen[bytes], url: str, total: int) -> list[Mark]:
    """Marks from the first finished job, then at every thousand, until all are done."""
    marks: list[Mark] = []
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        done = await jobs_done(url)
        now, cpu = time.monotonic(), process_cpu_seconds(proc.pid)
        if done and (not marks or done >= (marks[-1][0] // 1000 + 1) * 1000 or done >= total):
            if not marks or done > marks[-1][0]:
                marks.append((done, now, cpu))
        if done >= total:
            return marks
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited with {proc.returncode} after {done} jobs")
        await asyncio.sleep(0.02)
    raise SystemExit("the worker did not finish within an hour")


def run_worker(url: str, standin: StandIn, args: argparse.Namespace, workdir: Path) -> list[Mark]:
    env = app_env(workdir, url, standin.env())
    command = [sys.executable]
    if args.profile:
        command += ["-m", "bench.cpu_profile", str(Path(args.profile).resolve()), "bot"]
    else:
        command += ["-m", "bot"]
    command += ["worker", "--concurrency", str(args.concurrency)]
    with (workdir / "worker.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            marks = asyncio.run(watch_worker(proc, url, args.jobs))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    return marks


def per_interval(marks: list[Mark]) -> list[tuple[int, float, float]]:
    """(jobs up to, jobs/s, CPU ms per job) between consecutive marks."""
    rows = []
    for (d0, t0, c0), (d1, t1, c1) in itertools.pairwise(marks):
        jobs = d1 - d0
        rows.append((d1, jobs / max(t1 - t0, 1e-9), (c1 - c0) * 1000 / max(jobs, 1)))
    return rows


def overall(marks: list[Mark]) -> tuple[float, float]:
    (d0, t0, c0), (d1, t1, c1) = marks[0], marks[-1]
    return (d1 - d0) / max(t1 - t0, 1e-9), (c1 - c0) * 1000 / max(d1 - d0, 1)


def report(worker: list[Mark], base: list[Mark], stand_in_ms: tuple[float, float]) -> None:
    print(
        f"{'jobs up to':>10} {'worker jobs/s':>14} {'CPU ms/job':>11}   "
        f"{'githubkit jobs/s':>16} {'CPU ms/job':>11}"
    )
    rows_w, rows_b = per_interval(worker), per_interval(base)
    for i in range(max(len(rows_w), len(rows_b))):
        w = rows_w[i] if i < len(rows_w) else None
        b = rows_b[i] if i < len(rows_b) else None
        up_to = (w or b)[0]  # type: ignore[index]
        left = f"{w[1]:>14.1f} {w[2]:>11.2f}" if w else f"{'':>14} {'':>11}"
        right = f"{b[1]:>16.1f} {b[2]:>11.2f}" if b else ""
        print(f"{up_to:>10,} {left}   {right}")
    (wr, wc), (br, bc) = overall(worker), overall(base)
    print(f"{'overall':>10} {wr:>14.1f} {wc:>11.2f}   {br:>16.1f} {bc:>11.2f}")
    if len(rows_w) >= 2:
        first, last = rows_w[0][2], rows_w[-1][2]
        print(f"worker CPU per job, last thousand / first: {last / first:.2f}x")
    print(
        f"worker / githubkit CPU per job: {wc / bc:.2f}x; goal >= 50 jobs/s per worker: "
        f"{'met' if wr >= 50 else 'missed'} ({wr:.1f})"
    )
    print(
        f"the worker was busy {wr * wc / 10:.0f} % of one core; its CPU per job would allow "
        f"{1000 / wc:.0f} jobs/s on a core of its own"
    )
    print(
        f"stand-in CPU ms/job: {stand_in_ms[0]:.2f} (worker phase), "
        f"{stand_in_ms[1]:.2f} (githubkit phase); machine load (1 min) "
        + ", ".join(f"{what} {load:.1f}" for what, load in LOADS)
    )


LOADS: list[tuple[str, float]] = []


def note_load(what: str) -> None:
    LOADS.append((what, os.getloadavg()[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--validate", action="store_true", help="stand-in checks OpenAPI")
    parser.add_argument("--profile", help="write the worker's cProfile stats here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iw-bench-worker-") as tmp:
        workdir = Path(tmp)
        pg_name = None
        if args.sqlite:
            url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        else:
            pg_name, url = fresh_pg_database("iw_bench_worker")
        standin = StandIn(workdir, validate=args.validate)
        try:
            from bot.store.migrate import upgrade_sync

            upgrade_sync(url)
            t0 = time.monotonic()
            app_deliveries, base_deliveries = make_comments(standin, args.jobs)
            asyncio.run(store_deliveries(url, app_deliveries, workdir, standin.env()))
            print(
                f"{args.jobs:,} help comments and deliveries stored in "
                f"{time.monotonic() - t0:.1f} s ({'SQLite' if args.sqlite else 'PostgreSQL'}; "
                f"stand-in OpenAPI checks {'on' if args.validate else 'off'})"
            )
            cpu0 = standin.cpu_seconds()
            note_load("before the worker")
            worker = run_worker(url, standin, args, workdir)
            cpu1 = standin.cpu_seconds()
            note_load("after it")
            base = run_baseline(base_deliveries, standin, args.concurrency, workdir)
            cpu2 = standin.cpu_seconds()
            note_load("after the baseline")
            replies = check_replies(standin.effects(), args.jobs)
            print(
                f"replies posted: {replies['app']:,} by the worker, "
                f"{replies['base']:,} by the baseline; installation tokens created: "
                f"{replies['tokens']} ({INSTALLATIONS} installations, two processes)"
            )
            report(
                worker, base, ((cpu1 - cpu0) * 1000 / args.jobs, (cpu2 - cpu1) * 1000 / args.jobs)
            )
        finally:
            standin.stop()
            if pg_name:
                drop_pg_database(pg_name)


def check_replies(effects: dict[str, Any], jobs: int) -> dict[str, int]:
    """Replies on each side, and installation tokens created (reused until near expiry, one
    per installation and process is expected)."""
    bot = effects["bot"]
    counts = {"app": 0, "base": 0}
    for comment in effects["comments"]:
        if comment["user"] == bot:
            counts["app" if "/app#" in comment["issue"] else "base"] += 1
    if counts["app"] != jobs or counts["base"] != jobs:
        print(f"warning: expected {jobs:,} replies on each side, saw {counts}")
    counts["tokens"] = sum(1 for w in effects["writes"] if w["path"].endswith("/access_tokens"))
    return counts


if __name__ == "__main__":
    main()
