"""`GET /` never calls the app configured while its private key cannot sign a token (Settings
made in code skip `from_env`, which refuses such a key at start)."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from bot.app import create_app
from tests.conftest import make_settings


async def test_root_does_not_call_an_app_with_an_unusable_key_configured(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, sqlite_url, app_id="42", private_key="notapem")
    async with AsyncTestClient(create_app(settings)) as client:
        index = await client.get("/", headers={"accept": "text/plain"})
    assert index.status_code == 200
    assert "PRIVATE_KEY" in index.text
    assert "Configured as GitHub App 42" not in index.text
    assert "notapem" not in index.text
