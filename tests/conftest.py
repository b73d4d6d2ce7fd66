"""Shared test configuration: databases (SQLite and PostgreSQL), settings, the app.

Area-specific fixtures live beside their tests.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.settings import Settings
from bot.store.db import make_engine, make_session_factory
from bot.store.migrate import upgrade
from bot.store.models import Base

pytest_plugins = ["tests.ghsim.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
# Data made by others (webhook examples, GitHub's schemas, SWE-bench Lite), kept in the
# repository so a clone runs the suite with nothing beside it: see tests/fixtures/README.md.
FIXTURES = ROOT / "tests" / "fixtures"
WEBHOOK_SECRET = "test-webhook-secret"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"{FIXTURES} is missing: run `make refresh-fixtures` or `git checkout tests`")
    return FIXTURES


# ---------------------------------------------------------------- databases


async def _create_pg_database(name: str) -> None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {dsn} is not reachable ({exc}); .ci/run starts it")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _run_sync(coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion even when called from inside a running event loop
    (session fixtures are first requested by async tests)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn())).result()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    name = f"iw_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _run_sync(lambda: _create_pg_database(name))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    async def migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    _run_sync(migrate)
    yield url
    _run_sync(lambda: _drop_pg_database(name))


async def _truncate(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test that takes this runs twice: on a migrated SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("pg_url")
        await _truncate(url)
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[object]:
    engine = make_engine(sqlite_url)
    yield make_session_factory(engine)
    await engine.dispose()


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "webhook_secret": WEBHOOK_SECRET,
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "env_file": tmp_path / ".env",
        "worker_concurrency": 2,
        "run_worker": False,
        "job_lease_seconds": 30,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
