"""Running the app as an operator would, for benchmarks: a database of the run's own, the
app's processes (`python -m bot serve|worker`) with their settings in the environment, and
signed `issue_comment` deliveries to send them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret"
# Databases are created and dropped from the maintenance database, never from `test`.
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# ---------------------------------------------------------------- databases


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def fresh_pg_database(prefix: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database: (its name, its SQLAlchemy URL)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        raise SystemExit(f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc})") from None
    base = PG_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_pg_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def via_port(url: str, port: int) -> str:
    """The same database reached through another port on 127.0.0.1 (a proxy)."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# ---------------------------------------------------------------- the app's processes


def app_env(workdir: Path, database_url: str, github: Mapping[str, str], **extra: str) -> dict:
    """The environment of an app process: the operator's settings, nothing from a `.env` in
    the current directory."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH"}
    }
    env.update(
        ENV_FILE=str(workdir / "no.env"),
        DATA_DIR=str(workdir / "data"),
        DATABASE_URL=database_url,
        WEBHOOK_SECRET=SECRET,
        LOG_LEVEL="INFO",
        **github,
        **extra,
    )
    return env


def start_app(
    args: list[str], env: Mapping[str, str], log: Path, *, cpu: int | None = None
) -> subprocess.Popen[bytes]:
    """`python -m bot ARGS` (the `issuewright` command), output appended to `log`."""
    command = [sys.executable, "-m", "bot", *args]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )


# ---------------------------------------------------------------- deliveries


def signed(delivery: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers GitHub would POST for a delivery from the stand-in."""
    body = json.dumps(delivery["payload"]).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/bench",
        "X-GitHub-Event": delivery["event"],
        "X-GitHub-Delivery": delivery["id"],
        "X-Hub-Signature-256": signature,
    }


def help_comments(repos: Mapping[str, Any], user: str, total: int) -> list[dict]:
    """`total` `/issuewright help` comments by `user`, over every issue of `repos` in turn
    (consecutive comments land on different issues and repositories)."""
    items: list[dict[str, Any]] = []
    lists = [[(name, n) for n in repo["issues"]] for name, repo in repos.items()]
    by_turn = [one[k] for k in range(max(map(len, lists))) for one in lists if k < len(one)]
    for i in range(total):
        name, number = by_turn[i % len(by_turn)]
        body = f"/issuewright help\n\n(question {i + 1})"
        items.append({"repo": name, "number": number, "user": user, "body": body})
    return items
