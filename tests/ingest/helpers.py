"""Posting signed deliveries to the app, as GitHub does."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES, WEBHOOK_SECRET

WEBHOOKS = FIXTURES / "github-webhooks"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers_for(
    event: str, body: bytes, delivery: str | None = None, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }


def fixture_files() -> list[Path]:
    return sorted(WEBHOOKS.glob("*.json"))


def event_of(path: Path) -> str:
    return path.name.split(".")[0]


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((WEBHOOKS / name).read_text())
