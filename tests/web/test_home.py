"""`GET /` through the real app: HTML for a browser, text for curl, the configuration as it
is (never "until WEBHOOK_SECRET is set" when it is), what to do next with links, and the last
24 hours' deliveries and jobs read from the database without writing to it."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, inspect, select

from bot.app import create_app
from bot.jobs.dispatch import Router
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Delivery, Job, utcnow
from bot.web.setup import SetupGate, setup_routes
from tests.conftest import make_settings
from tests.ghsim.fixtures import new_app_private_key
from tests.ingest.helpers import headers_for
from tests.web.page_refs import References, is_remote

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CURL = {"Accept": "*/*"}
CONFIGURED = {
    "app_id": 4242,
    "private_key": new_app_private_key(),  # a key that does not parse is "not configured"
    "app_slug": "octo-wright",
}
UNTIL = "Until WEBHOOK_SECRET is set"


def app_with_setup(tmp_path: Path, url: str, **overrides: object) -> AsyncTestClient:
    """The app as `issuewright serve` composes it (with /setup while unconfigured)."""
    settings = make_settings(tmp_path, url, **overrides)
    routes = setup_routes(
        settings,
        gate=SetupGate("0" * 32),
        transport=httpx.MockTransport(lambda request: httpx.Response(500)),
    )
    return AsyncTestClient(create_app(settings, router=Router(), extra_routes=routes))


async def test_a_browser_gets_html_and_curl_gets_text(tmp_path: Path, sqlite_url: str) -> None:
    async with app_with_setup(tmp_path, sqlite_url) as client:  # the secret is set, no App yet
        page = await client.get("/", headers=BROWSER)
        text = await client.get("/", headers=CURL)
        bare = await client.get("/", headers={"Accept": ""})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["vary"] == "Accept"
    refs = References(page.text)
    assert "/setup" in refs.links and "/schema" in refs.links and "/readyz" in refs.links
    assert "/metrics" in refs.links
    assert "APP_ID" in page.text and "PRIVATE_KEY" in page.text
    assert refs.assets == [] and "<script" not in page.text  # nothing to fetch, no JavaScript

    assert text.headers["content-type"].startswith("text/plain")
    assert "<" not in text.text
    assert "Not configured yet" in text.text and "/setup" in text.text
    assert "APP_ID" in text.text and "/schema" in text.text
    assert bare.headers["content-type"].startswith("text/plain")
    # The secret is set: webhooks are verified and stored, so the page must not say otherwise.
    for body in (page.text, text.text):
        assert UNTIL not in body
        assert "verified and stored" in body


async def test_without_a_secret_it_says_webhooks_answer_503(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with app_with_setup(tmp_path, sqlite_url, webhook_secret=None) as client:
        text = (await client.get("/")).text
    assert f"{UNTIL}, POST /webhooks/github answers 503" in text
    assert "WEBHOOK_SECRET" in text.split("Next:")[0]  # listed among what is missing


async def test_configured_links_the_install_page_not_setup(tmp_path: Path, sqlite_url: str) -> None:
    settings = {**CONFIGURED, "public_url": "https://bot.example.com/"}
    async with app_with_setup(tmp_path, sqlite_url, **settings) as client:
        page = await client.get("/", headers=BROWSER)
        text = (await client.get("/")).text

    refs = References(page.text)
    install = "https://github.com/apps/octo-wright/installations/new"
    assert install in refs.links
    assert "/setup" not in refs.links and "/setup" not in text
    assert "Configured as GitHub App 4242" in text
    assert "POST https://bot.example.com/webhooks/github" in text
    assert "Not configured" not in page.text and UNTIL not in page.text
    # Nothing arrived yet: the page says where to look.
    assert "No delivery in the last 24 hours" in text
    assert all(not is_remote(url) for url in refs.links if "github.com" not in url)


async def test_activity_of_the_last_24_hours_by_status(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    old = utcnow() - timedelta(hours=25)
    async with sessions() as session, session.begin():  # outside the window: not counted
        session.add(
            Delivery(
                delivery_id="old", event="issues", payload="{}", status="done", received_at=old
            )
        )
        session.add(Job(kind="delivery", status="done", created_at=old))
    router = Router()

    @router.on("issues", "opened")
    async def noop(ctx: object, delivery: object) -> None:
        return None

    app = create_app(make_settings(tmp_path, sqlite_url, **CONFIGURED), router=router)
    async with AsyncTestClient(app) as client:
        for n, action in enumerate(("opened", "opened", "closed")):
            body = json.dumps({"action": action, "n": n}).encode()
            response = await client.post(
                "/webhooks/github", content=body, headers=headers_for("issues", body, f"d-{n}")
            )
            assert response.status_code == 202
        async with sessions() as session:
            before = [
                await session.scalar(select(func.count()).select_from(t)) for t in (Delivery, Job)
            ]
        text = (await client.get("/")).text
        page = (await client.get("/", headers=BROWSER)).text
        async with sessions() as session:
            after = [
                await session.scalar(select(func.count()).select_from(t)) for t in (Delivery, Job)
            ]
    await engine.dispose()

    assert "deliveries: 3 (1 ignored, 2 queued)" in text
    assert "jobs: 2 (2 queued)" in text
    assert "<th>deliveries</th><td>3</td><td>1 ignored, 2 queued</td>" in page
    assert "No delivery in the last 24 hours" not in text
    assert after == before  # reading the page wrote nothing


async def test_activity_on_a_database_without_tables_creates_none(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"  # never upgraded
    async with AsyncTestClient(create_app(make_settings(tmp_path, url), router=Router())) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert "cannot read the database" in response.text and "/readyz" in response.text
    engine = make_engine(url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert tables == []


async def test_with_a_metrics_token_the_counts_stay_private(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The page is open to anyone; the operator who locked /metrics locked the figures too."""
    settings = make_settings(tmp_path, sqlite_url, **CONFIGURED, metrics_token="t" * 32)
    async with AsyncTestClient(create_app(settings, router=Router())) as client:
        body = b'{"action": "opened"}'
        headers = headers_for("issues", body, "d-1")
        assert (
            await client.post("/webhooks/github", content=body, headers=headers)
        ).status_code == 202
        text = (await client.get("/")).text
    assert "deliveries:" not in text and "No delivery" not in text
    assert "not shown here while METRICS_TOKEN is set" in text
    assert "Metrics: /metrics (Prometheus; needs the METRICS_TOKEN bearer token)" in text


async def test_the_start_up_warning_names_503_only_without_a_secret(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = {}
    for secret in ("s3cret", None):
        caplog.clear()
        app = create_app(
            make_settings(tmp_path, sqlite_url, webhook_secret=secret), router=Router()
        )
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            async with AsyncTestClient(app):
                pass
        warnings[secret] = " ".join(r.getMessage() for r in caplog.records)
    assert "not configured yet" in warnings["s3cret"] and "503" not in warnings["s3cret"]
    assert "webhooks answer 503 until WEBHOOK_SECRET is set" in warnings[None]
