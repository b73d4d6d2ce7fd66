"""`issuewright_webhook_rejected_total{reason}` through the real app: every delivery the
receiver refuses is counted once under why, every reason is exported from the start (at 0),
and an accepted delivery counts as no rejection."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.core.metric_labels import WEBHOOK_REJECTIONS
from bot.jobs.dispatch import Router
from bot.web.webhooks import MAX_BODY_BYTES
from tests.conftest import make_settings
from tests.ingest.helpers import headers_for, sign
from tests.ops.test_metrics import parse, value

REJECTED = "issuewright_webhook_rejected_total"
BODY = b'{"action": "opened"}'


def rejected(body: str) -> dict[str, float]:
    samples = parse(body)
    return {reason: value(samples, REJECTED, reason=reason) or 0.0 for reason in WEBHOOK_REJECTIONS}


async def post(client: AsyncTestClient, body: bytes, **changes: str | bytes | None) -> int:
    headers = {k: v for k, v in {**headers_for("issues", body), **changes}.items() if v is not None}
    return (await client.post("/webhooks/github", content=body, headers=headers)).status_code


async def test_each_refusal_is_counted_by_reason(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url), router=Router())
    async with AsyncTestClient(app) as client:
        start = await client.get("/metrics")
        assert await post(client, BODY) == 202  # accepted: not a rejection
        assert await post(client, BODY, **{"X-Hub-Signature-256": None}) == 401
        assert await post(client, BODY, **{"X-Hub-Signature-256": "sha1=abc"}) == 401
        assert (
            await post(
                client, BODY, **{"X-Hub-Signature-256": ("sha256=" + "é" * 64).encode("latin-1")}
            )
            == 401
        )
        assert await post(client, BODY, **{"X-Hub-Signature-256": sign(b"another body")}) == 401
        assert await post(client, BODY, **{"X-Hub-Signature-256": sign(BODY, "wrong")}) == 401
        assert await post(client, BODY, **{"X-GitHub-Event": None}) == 400
        assert await post(client, BODY, **{"X-GitHub-Delivery": "no spaces allowed"}) == 400
        assert await post(client, b"[1, 2]", **{"X-Hub-Signature-256": sign(b"[1, 2]")}) == 400
        big = b'{"a":"' + b"x" * MAX_BODY_BYTES + b'"}'
        assert await post(client, big, **{"X-Hub-Signature-256": sign(big)}) == 413
        after = await client.get("/metrics")

    assert set(rejected(start.text).values()) == {0.0}
    assert all(f'{REJECTED}{{reason="{r}"}} 0.0' in start.text for r in WEBHOOK_REJECTIONS)
    assert rejected(after.text) == {
        "no_secret": 0,
        "too_large": 1,
        "signature_missing": 1,
        "signature_malformed": 2,
        "signature_mismatch": 2,
        "bad_headers": 2,
        "bad_body": 1,
        "store_unavailable": 0,
    }


async def test_no_secret_and_an_unavailable_store_are_counted(tmp_path: Path) -> None:
    # No secret: refused before anything else. Then a database that refuses connections
    # (loopback port 1, at once: no network, no wait): the delivery cannot be stored.
    down = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    unsigned = create_app(make_settings(tmp_path, down, webhook_secret=None), router=Router())
    async with AsyncTestClient(unsigned) as client:
        assert await post(client, BODY) == 503
        no_secret = rejected((await client.get("/metrics")).text)
    async with AsyncTestClient(
        create_app(make_settings(tmp_path, down), router=Router())
    ) as client:
        assert await post(client, BODY) == 503
        unavailable = rejected((await client.get("/metrics")).text)

    assert no_secret["no_secret"] == 1 and sum(no_secret.values()) == 1
    assert unavailable["store_unavailable"] == 1 and sum(unavailable.values()) == 1
