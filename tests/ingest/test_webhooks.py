"""The webhook receiver: every real payload, GitHub's signature vector, and bad input."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.handlers.record import HANDLED
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Delivery, Job
from bot.web.webhooks import MAX_BODY_BYTES, verify_signature
from tests.conftest import make_settings
from tests.ingest.helpers import event_of, fixture_files, headers_for, sign


@pytest.fixture
async def client(tmp_path: Path, sqlite_url: str) -> AsyncIterator[AsyncTestClient]:
    app = create_app(make_settings(tmp_path, sqlite_url))
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        deliveries = (await session.execute(select(func.count(Delivery.id)))).scalar_one()
        jobs = (await session.execute(select(func.count(Job.id)))).scalar_one()
    await engine.dispose()
    return deliveries, jobs


def test_github_signature_test_vector() -> None:
    # From GitHub's docs ("Validating webhook deliveries"), quoted in the fixtures README.
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_signature("It's a Secret to Everybody", b"Hello, World!", header)
    assert not verify_signature("It's a Secret to Everybody", b"Hello, World?", header)
    assert not verify_signature("another secret", b"Hello, World!", header)


async def test_every_published_payload_is_stored_once(
    client: AsyncTestClient, sqlite_url: str
) -> None:
    files = fixture_files()
    assert len(files) >= 100
    expected_jobs = 0
    for path in files:
        body = path.read_bytes()
        event = event_of(path)
        action = json.loads(body).get("action")
        delivery = str(uuid.uuid4())
        response = await client.post(
            "/webhooks/github", content=body, headers=headers_for(event, body, delivery)
        )
        handled = event != "ping" and action in HANDLED.get(event, ())
        expected_jobs += handled
        if event == "ping":
            assert response.status_code == 200, path.name
        else:
            assert response.status_code == 202, (path.name, response.text)
            assert response.json()["status"] == ("queued" if handled else "ignored"), path.name
        again = await client.post(
            "/webhooks/github", content=body, headers=headers_for(event, body, delivery)
        )
        assert again.status_code == 200 and again.json()["status"] == "duplicate", path.name
    assert await counts(sqlite_url) == (len(files), expected_jobs)
    assert expected_jobs > 50


async def test_stored_delivery_keeps_its_fields(client: AsyncTestClient, sqlite_url: str) -> None:
    body = (fixture_files()[0].parent / "installation_repositories.added.0.json").read_bytes()
    response = await client.post(
        "/webhooks/github",
        content=body,
        headers=headers_for("installation_repositories", body, "d-1"),
    )
    assert response.status_code == 202
    engine = make_engine(sqlite_url)
    async with make_session_factory(engine)() as session:
        row = (await session.execute(select(Delivery))).scalar_one()
        job = (await session.execute(select(Job))).scalar_one()
    await engine.dispose()
    payload = json.loads(body)
    assert (row.delivery_id, row.event, row.action) == ("d-1", "installation_repositories", "added")
    assert row.installation_id == payload["installation"]["id"]
    assert row.payload == body.decode()
    assert row.status == "queued" and row.received_at is not None
    assert (job.kind, job.delivery_id, job.status) == ("delivery", "d-1", "queued")


BAD_INPUT = [
    # (name, body, headers-builder, expected status)
    (
        "no signature",
        b'{"action":"opened"}',
        lambda b: {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "x1"},
        401,
    ),
    (
        "wrong secret",
        b'{"action":"opened"}',
        lambda b: headers_for("issues", b, "x2", secret="nope"),
        401,
    ),
    (
        "tampered body",
        b'{"action":"opened"}',
        lambda b: {**headers_for("issues", b'{"action":"closed"}', "x3")},
        401,
    ),
    (
        "malformed signature",
        b"{}",
        lambda b: {**headers_for("issues", b, "x4"), "X-Hub-Signature-256": "md5=abc"},
        401,
    ),
    ("empty body", b"", lambda b: headers_for("issues", b, "x5"), 400),
    ("not json", b"hello", lambda b: headers_for("issues", b, "x6"), 400),
    ("json array", b"[1, 2]", lambda b: headers_for("issues", b, "x7"), 400),
    ("json string", b'"x"', lambda b: headers_for("issues", b, "x8"), 400),
    (
        "missing delivery id",
        b"{}",
        lambda b: {k: v for k, v in headers_for("issues", b).items() if k != "X-GitHub-Delivery"},
        400,
    ),
    (
        "missing event",
        b"{}",
        lambda b: {
            k: v for k, v in headers_for("issues", b, "x9").items() if k != "X-GitHub-Event"
        },
        400,
    ),
    ("invalid utf-8", b'{"a": "\xff"}', lambda b: headers_for("issues", b, "x10"), 400),
]


@pytest.mark.parametrize(
    ("name", "body", "make_headers", "status"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
async def test_bad_input_is_refused_and_nothing_stored(
    client: AsyncTestClient,
    sqlite_url: str,
    name: str,
    body: bytes,
    make_headers: object,
    status: int,
) -> None:
    response = await client.post("/webhooks/github", content=body, headers=make_headers(body))  # type: ignore[operator]
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert await counts(sqlite_url) == (0, 0)


async def test_unknown_event_is_stored_as_ignored(client: AsyncTestClient, sqlite_url: str) -> None:
    body = b'{"action": "created", "zen": "x"}'
    response = await client.post(
        "/webhooks/github", content=body, headers=headers_for("discussion", body, "u-1")
    )
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert await counts(sqlite_url) == (1, 0)


async def test_oversized_body_is_413_and_not_stored(
    client: AsyncTestClient, sqlite_url: str
) -> None:
    body = b'{"a":"' + b"x" * MAX_BODY_BYTES + b'"}'
    response = await client.post(
        "/webhooks/github", content=body, headers=headers_for("issues", body, "big")
    )
    assert response.status_code == 413
    assert await counts(sqlite_url) == (0, 0)


async def test_without_secret_webhooks_answer_503_and_root_says_what_to_set(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url, webhook_secret=None))
    async with AsyncTestClient(app) as client:
        body = b"{}"
        response = await client.post(
            "/webhooks/github", content=body, headers=headers_for("issues", body, "n-1")
        )
        assert response.status_code == 503
        index = await client.get("/")
        assert "WEBHOOK_SECRET" in index.text and "APP_ID" in index.text
    assert await counts(sqlite_url) == (0, 0)


async def test_database_down_is_503(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with AsyncTestClient(create_app(settings)) as client:
        body = b'{"action": "opened"}'
        response = await client.post(
            "/webhooks/github", content=body, headers=headers_for("issues", body, "db-1")
        )
        assert response.status_code == 503
        assert "Traceback" not in response.text


async def test_signature_of_helper_matches_receiver() -> None:
    assert verify_signature("s3cret", b"{}", sign(b"{}", "s3cret"))


async def test_a_signed_body_sent_again_under_a_new_delivery_id_is_a_duplicate(
    tmp_path: Path, database_url: str
) -> None:
    """A captured body replayed with a fresh X-GitHub-Delivery: accepted (202) as a duplicate,
    neither stored nor queued again (SQLite's sqlite3 path and PostgreSQL's)."""
    body = (fixture_files()[0].parent / "issues.labeled.0.json").read_bytes()
    app = create_app(make_settings(tmp_path, database_url))
    async with AsyncTestClient(app) as client:
        first = await client.post(
            "/webhooks/github", content=body, headers=headers_for("issues", body, "first")
        )
        again = await client.post(
            "/webhooks/github", content=body, headers=headers_for("issues", body, "replayed")
        )
        other = body.replace(b'"labeled"', b'"labeled" ', 1)  # another body: another event
        third = await client.post(
            "/webhooks/github", content=other, headers=headers_for("issues", other, "other")
        )
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert again.status_code == 202 and again.json() == {
        "delivery": "replayed",
        "status": "duplicate",
    }
    assert third.status_code == 202 and third.json()["status"] == "queued"
    assert await counts(database_url) == (2, 2)
