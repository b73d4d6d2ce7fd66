"""A hung database makes the receiver answer 503 quickly, not hang (issue 12, cause 6).

The app reaches PostgreSQL through a proxy that the test freezes: connections stay open and
nothing comes back, as with a stalled server. GitHub gives up on a delivery after 10 s; the
receiver must answer 503 within WEBHOOK_STORE_WAIT_SECONDS so GitHub's log shows a failure
to redeliver. Once the database answers again, the redelivery is taken exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.store.db import make_engine
from bot.store.models import Job
from tests.conftest import _truncate, make_settings
from tests.ingest.helpers import headers_for
from tests.ingest.tcp_proxy import TcpProxy

# GitHub's own limit; the test waits this long at most for an answer, never for a timing.
GITHUB_TIMEOUT_SECONDS = 10


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[str]:
    await _truncate(pg_url)
    yield pg_url


@pytest.fixture
def proxied(pg: str) -> Iterator[tuple[TcpProxy, str]]:
    url = make_url(pg)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.stop()


async def test_a_frozen_database_is_answered_with_503_and_the_redelivery_is_stored_once(
    tmp_path: Path, pg: str, proxied: tuple[TcpProxy, str]
) -> None:
    proxy, url = proxied
    settings = make_settings(tmp_path, url, webhook_store_wait_seconds=2.0)
    body = b'{"action": "opened", "issue": {"number": 1}}'
    headers = headers_for("issues", body, "frozen-1")
    warm = b'{"action": "opened", "issue": {"number": 2}}'
    # The blocking test client, driven from threads: the app runs on its own loop, so this
    # test's loop stays free to notice a receiver that does not answer.
    client = TestClient(create_app(settings, run_worker=False))
    await asyncio.to_thread(client.__enter__)
    try:
        # A delivery first, so the app holds open connections when the database stalls.
        first = await asyncio.to_thread(
            client.post, "/webhooks/github", content=warm, headers=headers_for("issues", warm, "w")
        )
        assert first.status_code == 202
        proxy.freeze()
        try:
            post = asyncio.ensure_future(
                asyncio.to_thread(client.post, "/webhooks/github", content=body, headers=headers)
            )
            done, _ = await asyncio.wait({post}, timeout=GITHUB_TIMEOUT_SECONDS)
        finally:
            proxy.thaw()
        answer = await post
        assert done, "the receiver was still waiting for the database when GitHub gave up"
        assert answer.status_code == 503 and "redeliver" in answer.text
        again = await asyncio.to_thread(
            client.post, "/webhooks/github", content=body, headers=headers
        )
        assert again.status_code in (200, 202)
    finally:
        await asyncio.to_thread(client.__exit__, None, None, None)
    engine = make_engine(pg)
    async with engine.connect() as connection:
        jobs = (await connection.execute(select(func.count()).select_from(Job))).scalar_one()
    await engine.dispose()
    assert jobs == 2  # the warm-up's and the redelivered one's, once
