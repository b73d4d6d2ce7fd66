"""The webhook receiver's latency while a hostile plan is computed in the same process.

Three runs of the real receiver (SQLite, every delivery committed before its 202), each at a
fixed 200 deliveries/s, server pinned to core 0 and load to core 1 as in bench/ingest.py:

- `quiet`: nothing else runs;
- `plan`: plans of a hostile issue run back to back the way the app runs them
  (`asyncio.to_thread(make_plan, ...)`): hundreds of task items each naming fifty others, a
  repository config that raises `max_tasks_per_issue` to take them all, and a prompt override
  with nested loops (stopped by the sandbox, then the built-in renders);
- `plan-on-loop`: one such plan called on the event loop, as before issue 17, for scale.

    .venv/bin/python -m bench.hostile_plan [--seconds 8] [--items 40]

Prints p50/p99 per run and how many plans finished during it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ingest import PAYLOAD, ROOT, fixed_rate, free_port, saturate
from tests.hostile import NESTED_LOOPS, many_items

MODES = ("quiet", "plan", "plan-on-loop")


def hostile_planner(items: int) -> Any:
    """A function computing one hostile plan, and the counters it updates."""
    from bot.context import RepoMap
    from bot.core.repo_config import parse_repo_config
    from bot.plan.planner import IssueText, make_plan
    from bot.prompts.templates import PROMPTS_DIR

    repo_map = RepoMap.from_dir(ROOT / "bot")  # this project's own code as the repository
    config, _ = parse_repo_config(f"max_tasks_per_issue: {items}\n")
    builtin = (PROMPTS_DIR / "feature.md.j2").read_text(encoding="utf-8")
    overrides = {".github/issuewright/prompts/feature.md.j2": builtin + NESTED_LOOPS}
    issue = IssueText("octo-org/calc", 1, "Hundreds of operations", many_items(items, 50))

    def plan() -> int:
        return len(make_plan(issue, repo_map, config, model=None, overrides=overrides).tasks)

    return plan


def serve(mode: str, port: int, url: str, items: int) -> None:
    import uvicorn

    from bench.ingest_server import SECRET
    from bot.app import create_app
    from bot.settings import Settings
    from bot.store.migrate import upgrade_sync

    upgrade_sync(url)
    data_dir = Path(url.rsplit("/", 1)[0].removeprefix("sqlite+aiosqlite:///"))
    app = create_app(Settings(webhook_secret=SECRET, database_url=url, data_dir=data_dir))
    plan = hostile_planner(items)
    done, go = data_dir / f"{mode}.plans", data_dir / f"{mode}.go"

    async def plans_forever() -> None:
        # After the client's warm-up (a file: the client is another process).
        while not go.exists():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        count = 0
        while True:
            start = time.perf_counter()
            if mode == "plan":
                tasks = await asyncio.to_thread(plan)
            else:
                tasks = plan()  # the old way: the event loop computes it
            count += 1
            seconds = time.perf_counter() - start
            done.write_text(f"{count} {tasks} {seconds:.2f}\n")
            if mode == "plan-on-loop":
                return  # one blocked stretch is enough to see it; back to back never ends

    async def start_plans(_app: Any) -> None:
        if mode != "quiet":
            _app.state.plans = asyncio.create_task(plans_forever())

    app.on_startup.append(start_plans)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start(mode: str, port: int, url: str, items: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "bench.hostile_plan", "--serve", mode, str(port), url]
    proc = subprocess.Popen(
        ["taskset", "-c", "0", *argv, "--items", str(items)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    import socket

    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{mode} server did not start on port {port}")


def measure(mode: str, body: bytes, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    port = free_port()
    db = workdir / f"{mode}.db"
    proc = start(mode, port, f"sqlite+aiosqlite:///{db}", args.items)
    plans = workdir / f"{mode}.plans"
    try:
        asyncio.run(saturate(port, body, 1.0, 8))  # warm-up
        (workdir / f"{mode}.go").touch()
        if mode == "plan":  # measure while a plan is being computed, not before the first
            while not plans.exists() and proc.poll() is None:
                time.sleep(0.1)
        before = plans.read_text().split() if plans.exists() else ["0", "0", "0"]
        p50, p99, bad = asyncio.run(fixed_rate(port, body, 200.0, args.seconds))
        after = plans.read_text().split() if plans.exists() else ["0", "0", "0"]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    return {
        "p50": p50,
        "p99": p99,
        "bad": bad,
        "stored": stored,
        "plans": int(after[0]) - int(before[0]),
        "tasks": int(after[1]),
        "plan_seconds": float(after[2]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--serve", nargs=3, metavar=("MODE", "PORT", "DB_URL"))
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2], args.items)
        return
    os.sched_setaffinity(0, {1})
    body = PAYLOAD.read_bytes()
    print(f"payload {PAYLOAD.name}: {len(body)} bytes; 200 deliveries/s for {args.seconds:g} s")
    print(f"hostile plan: {args.items} task items, 50 dependencies each, nested-loop override")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            rows[mode] = measure(mode, body, args, Path(tmp))
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>10}{'non-202':>9}{'plans done':>12}{'s/plan':>8}")
    labels = {
        "quiet": "receiver alone",
        "plan": "during hostile plans (thread)",
        "plan-on-loop": "during plans on the loop (old)",
    }
    for mode, row in rows.items():
        per_plan = f"{row['plan_seconds']:.1f}" if mode != "quiet" else "-"
        print(
            f"{labels[mode]:34}{row['p50']:>9.2f}{row['p99']:>10.2f}{row['bad']:>9}"
            f"{row['plans'] if mode != 'quiet' else '-':>12}{per_plan:>8}"
        )


if __name__ == "__main__":
    main()
