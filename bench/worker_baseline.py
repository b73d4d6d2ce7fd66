"""The baseline of bench/worker.py: the GitHub calls of one `/issuewright help` job, made
directly with githubkit, in a process of their own.

    python -m bench.worker_baseline SPEC.json

SPEC names the stand-in (`api_url`, `app_id`, `key_file`), the `concurrency`, and the `jobs`
(installation, repository, issue, comment, user). Per job, as the bot's handler does: the
commenter's permission, 👀 on the comment, the issue's comments (looking for an earlier
reply), the reply, 🚀. One App client for the process, one installation client per
installation kept open (one connection pool each), githubkit's HTTP cache off (as in the
app). Prints one JSON line per thousand
jobs: {"done": n, "t": monotonic seconds, "cpu": process CPU seconds}.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from githubkit import AppAuthStrategy, GitHub

from bench.standin import ROOT, StandIn

HELP = "Issuewright commands: help, retry, cancel … (baseline reply)"


async def one_job(gh: GitHub[Any], job: dict[str, Any]) -> None:
    owner, repo = job["repo"].split("/")
    rest = gh.rest
    perm = await rest.repos.async_get_collaborator_permission_level(owner, repo, job["user"])
    assert perm.json()["role_name"] in {"admin", "maintain", "write"}
    await rest.reactions.async_create_for_issue_comment(owner, repo, job["comment"], content="eyes")
    marker = f"<!-- baseline:{job['comment']} -->"
    found = False
    async for comment in rest.paginate(
        rest.issues.async_list_comments,
        lambda r: r.json(),
        owner=owner,
        repo=repo,
        issue_number=job["issue"],
        per_page=100,
    ):
        found = found or marker in comment["body"]
    if not found:
        await rest.issues.async_create_comment(
            owner, repo, job["issue"], body=f"{HELP}\n\n{marker}"
        )
    await rest.reactions.async_create_for_issue_comment(
        owner, repo, job["comment"], content="rocket"
    )


async def run(spec: dict[str, Any], key: str) -> None:
    app = GitHub(
        AppAuthStrategy(spec["app_id"], key),
        base_url=spec["api_url"],
        http_cache=False,
    )
    clients: dict[int, GitHub[Any]] = {
        i: app.with_auth(app.auth.as_installation(i))
        for i in {job["installation"] for job in spec["jobs"]}
    }
    jobs = iter(spec["jobs"])
    done = 0

    def report() -> None:
        line = {"done": done, "t": time.monotonic(), "cpu": time.process_time()}
        print(json.dumps(line), flush=True)

    async def slot() -> None:
        nonlocal done
        for job in jobs:
            await one_job(clients[job["installation"]], job)
            done += 1
            if done % 1000 == 0:
                report()

    async with contextlib.AsyncExitStack() as stack:
        for client in clients.values():  # entered here, so every slot's context sees them
            await stack.enter_async_context(client)
        report()
        await asyncio.gather(*(slot() for _ in range(spec["concurrency"])))
    if done % 1000:
        report()


def run_baseline(
    deliveries: list[dict[str, Any]], standin: StandIn, concurrency: int, workdir: Path
) -> list[tuple[int, float, float]]:
    """Run the baseline in a process of its own on `deliveries` (their comments, as the
    worker's jobs would); returns (jobs done, monotonic seconds, CPU seconds) per thousand."""
    jobs = [
        {
            "installation": d["payload"]["installation"]["id"],
            "repo": d["payload"]["repository"]["full_name"],
            "issue": d["payload"]["issue"]["number"],
            "comment": d["payload"]["comment"]["id"],
            "user": d["payload"]["comment"]["user"]["login"],
        }
        for d in deliveries
    ]
    spec = workdir / "baseline.json"
    key = workdir / "app-key.pem"
    spec.write_text(
        json.dumps(
            {
                "api_url": standin.url,
                "app_id": standin.env()["APP_ID"],
                "key_file": str(key),
                "concurrency": concurrency,
                "jobs": jobs,
            }
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "bench.worker_baseline", str(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"the baseline failed:\n{out.stderr[-3000:]}")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return [(line["done"], line["t"], line["cpu"]) for line in lines]


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(run(spec, Path(spec["key_file"]).read_text()))
