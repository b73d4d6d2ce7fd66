"""Migration 0003_identity on a database with work in it (SQLite and PostgreSQL): runs and
tasks get the repository id their name and installation had; the rest match no delivery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.store.db import make_engine
from bot.store.migrate import alembic_config, upgrade
from tests.conftest import PG_ADMIN_URL, _create_pg_database, _drop_pg_database

NOW = "2026-12-01 10:00:00"


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"iw_mig_{uuid.uuid4().hex[:8]}"
    await _create_pg_database(name)
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    await _drop_pg_database(name)


@pytest.mark.parametrize("start", ["0001", "0002"])
async def test_existing_runs_and_tasks_get_their_repository_id(empty_url: str, start: str) -> None:
    engine = make_engine(empty_url)

    def to_start(connection: object) -> None:
        config = alembic_config(empty_url)
        config.attributes["connection"] = connection
        command.upgrade(config, start)

    async with engine.begin() as conn:
        await conn.run_sync(to_start)
        rows = [
            "INSERT INTO installations (id, account_login, status, permissions, events,"
            f" created_at, updated_at) VALUES (7, 'octo-org', 'active', '{{}}', '[]', '{NOW}',"
            f" '{NOW}')",
            "INSERT INTO repositories (id, installation_id, full_name, private, removed,"
            f" updated_at) VALUES (555, 7, 'octo-org/calc', false, false, '{NOW}')",
        ]
        for repo, number in (("octo-org/calc", 1), ("octo-org/gone", 1)):
            rows.append(
                "INSERT INTO issue_runs (repository, issue_number, installation_id, title,"
                " plan_only, notes, created_at, updated_at) VALUES"
                f" ('{repo}', {number}, 7, 't', false, '[]', '{NOW}', '{NOW}')"
            )
        for run_id, repo in ((1, "octo-org/calc"), (2, "octo-org/gone")):
            rows.append(
                "INSERT INTO tasks (key, run_id, repository, issue_number, ordinal, title, body,"
                " task_type, depends_on, state, attempts, ci_fix_attempts, push_blocked,"
                " input_tokens, output_tokens, cost_usd, files, created_at, updated_at) VALUES"
                f" ('{repo}#1/1', {run_id}, '{repo}', 1, 1, 't', '', 'bug', '[]', 'pr_open', 0,"
                f" 0, false, 0, 0, 0, '[]', '{NOW}', '{NOW}')"
            )
        for row in rows:
            await conn.execute(text(row))
    await upgrade(engine)
    async with engine.connect() as conn:
        runs = (
            await conn.execute(text("SELECT repository, repository_id FROM issue_runs ORDER BY id"))
        ).all()
        tasks = (
            await conn.execute(text("SELECT repository, repository_id FROM tasks ORDER BY id"))
        ).all()
    await engine.dispose()
    assert [tuple(r) for r in runs] == [("octo-org/calc", 555), ("octo-org/gone", None)]
    assert [tuple(t) for t in tasks] == [("octo-org/calc", 555), ("octo-org/gone", None)]
