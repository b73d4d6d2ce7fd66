"""`/healthz`, `/readyz` and the OpenAPI schema, through the real app on a real database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.jobs.dispatch import Router
from bot.jobs.worker import Worker
from bot.store.db import make_engine
from bot.store.migrate import head_revision
from tests.conftest import make_settings


async def test_healthz(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url), router=Router())
    async with AsyncTestClient(app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_waits_for_a_worker_heartbeat(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url), router=Router(), run_worker=False)
    async with AsyncTestClient(app) as client:
        before = await client.get("/readyz")
        assert before.status_code == 503
        assert before.json() == {
            "ready": False,
            "database": "ok",
            "migrations": "ok",
            "worker": "no worker heartbeat in the last minute",
        }

        # A worker in another process beats into the same database; one beat is enough.
        await Worker(app.state.ctx, Router(), worker_id="elsewhere:1").beat()
        after = await client.get("/readyz")

    assert after.status_code == 200
    assert after.json() == {"ready": True, "database": "ok", "migrations": "ok", "worker": "ok"}


async def test_readyz_says_when_migrations_are_missing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"  # never upgraded
    engine = make_engine(url)
    await engine.dispose()
    app = create_app(make_settings(tmp_path, url), router=Router())
    async with AsyncTestClient(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["migrations"] == f"at None, need {head_revision()}: run `issuewright db upgrade`"
    assert body["ready"] is False and body["worker"] != "ok"


async def test_readyz_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Loopback port 1: refused at once (no network, no wait).
    url = "postgresql+asyncpg://issuewright:pg-Secret-8812@127.0.0.1:1/issuewright"
    app = create_app(make_settings(tmp_path, url), router=Router())
    async with AsyncTestClient(app) as client:
        response = await client.get("/readyz")
        health = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["database"].startswith("unreachable (")
    assert "DATABASE_URL" in body["database"]
    assert body["migrations"] == body["worker"] == "not checked: the database is not ready"
    assert "pg-Secret-8812" not in response.text
    assert health.status_code == 200  # the process itself is up


async def test_openapi_schema_lists_the_webhook_route(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url), router=Router())
    async with AsyncTestClient(app) as client:
        response = await client.get("/schema/openapi.json")
        assert (await client.get("/schema")).status_code == 200  # the routes page
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/")
    schema = response.json()
    assert schema["info"]["title"] == "Issuewright"
    assert "post" in schema["paths"]["/webhooks/github"]
    assert {"/healthz", "/readyz"} <= set(schema["paths"])


async def test_a_healthy_readyz_probe_logs_nothing(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url), router=Router(), run_worker=False)
    async with AsyncTestClient(app) as client:
        await Worker(app.state.ctx, Router(), worker_id="elsewhere:1").beat()
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="alembic"):
            for _ in range(3):  # a load balancer probes every few seconds
                assert (await client.get("/readyz")).status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []
