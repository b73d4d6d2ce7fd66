"""Hostile `X-Hub-Signature-256` values through the real app: always 401, never a 5xx, and
nothing stored. Header values arrive as raw bytes (latin-1 decoded by the server), so the
test sends bytes, as a client on the network can."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.web.webhooks import verify_signature
from tests.conftest import WEBHOOK_SECRET, make_settings
from tests.ingest.helpers import headers_for
from tests.ingest.test_webhooks import counts

BODY = b'{"action": "opened", "zen": "x"}'
GOOD = headers_for("issues", BODY, "sig-1")["X-Hub-Signature-256"]

HOSTILE: dict[str, bytes] = {
    # Right length, right prefix, one latin-1 letter in the hex.
    "latin-1": ("sha256=" + "\u00e9" + GOOD[8:]).encode("latin-1"),
    # A character outside latin-1, as UTF-8 bytes (the server sees several latin-1 chars).
    "non-latin-1 utf-8": ("sha256=" + "\u20ac" * 21 + "a").encode("utf-8"),
    "non-ascii exact length": ("sha256=" + "\u00ff" * 64).encode("latin-1"),
    "invalid utf-8 bytes": b"sha256=\xff\xfe" + GOOD[9:].encode(),
    "the good signature with a non-ascii tail": GOOD.encode() + "\u00e9".encode("latin-1"),
    "overlong": b"sha256=" + b"a" * 60_000,
    "overlong non-ascii": b"sha256=" + "\u00e9".encode("utf-8") * 30_000,
    "control characters": b"sha256=\x01\x02" + GOOD[9:].encode(),
}


@pytest.fixture
async def client(tmp_path: Path, sqlite_url: str) -> AsyncIterator[AsyncTestClient]:
    app = create_app(make_settings(tmp_path, sqlite_url))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_signature_header_is_401(
    client: AsyncTestClient, sqlite_url: str, case: str
) -> None:
    delivery = "sig-" + "".join(c if c.isalnum() else "-" for c in case)
    headers = {k.encode(): v.encode() for k, v in headers_for("issues", BODY, delivery).items()}
    headers[b"X-Hub-Signature-256"] = HOSTILE[case]
    response = await client.post("/webhooks/github", content=BODY, headers=headers)
    assert response.status_code == 401, response.text
    assert "X-Hub-Signature-256" in response.json()["error"]
    assert await counts(sqlite_url) == (0, 0)
    # The same delivery correctly signed is still accepted afterwards.
    good = headers_for("issues", BODY, delivery)
    assert (await client.post("/webhooks/github", content=BODY, headers=good)).status_code == 202


@pytest.mark.parametrize(
    "header",
    ["sha256=\u00e9" + GOOD[8:], "sha256=" + "\u20ac" * 64, "\u0100" * 71, GOOD + "\u00e9", ""],
)
def test_verify_signature_never_raises(header: str) -> None:
    assert verify_signature(WEBHOOK_SECRET, BODY, header) is False
