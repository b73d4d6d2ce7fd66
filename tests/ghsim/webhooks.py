"""Webhooks the simulator sends: real published payloads as templates, our values filled in.

Each payload starts from `tests/fixtures/github-webhooks/<event>.<action>.0.json` (read
at run time, never copied), keeps that payload's shape (its keys) and takes the values from
the simulator's state. It is then checked against the published webhook schema; because
real payloads do not always satisfy that schema, only errors the template itself does not
have count as violations.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jsonschema import Draft7Validator

from .openapi import FIXTURES

WEBHOOKS_DIR = FIXTURES / "github-webhooks"
SCHEMA_PATH = FIXTURES / "github-webhooks-schemas" / "schema.json.gz"

Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]


def sign(secret: str | bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` header GitHub sends for `body`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    payload: dict[str, Any]

    @property
    def action(self) -> str | None:
        return self.payload.get("action")


@functools.cache
def template(event: str, action: str) -> dict[str, Any]:
    path = WEBHOOKS_DIR / f"{event}.{action}.0.json"
    return json.loads(path.read_text())


def fill(shape: Any, values: Any) -> Any:
    """`values` restricted to the keys of `shape` (recursively); keys `values` lacks keep the
    template's value. Lists take `values`' items, each shaped like the template's first. A
    user where the template has none (e.g. `merged_by: null`) takes a sender's shape."""
    if isinstance(values, dict) and not isinstance(shape, dict) and "login" in values:
        shape = template("issues", "opened")["sender"]
    if isinstance(shape, dict) and isinstance(values, dict):
        return {
            k: fill(v, values[k]) if k in values else copy.deepcopy(v) for k, v in shape.items()
        }
    if isinstance(shape, list) and isinstance(values, list):
        first = shape[0] if shape else None
        return [fill(first, item) if first is not None else item for item in values]
    return copy.deepcopy(values)


@functools.cache
def _schema() -> dict[str, Any]:
    with gzip.open(SCHEMA_PATH, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _validator(event: str, action: str) -> Draft7Validator | None:
    definitions = _schema()["definitions"]
    name = f"{event}${action}"
    if name not in definitions:
        return None
    return Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": definitions})


def _error_keys(validator: Draft7Validator, payload: Any) -> dict[tuple[str, str], str]:
    keys = {}
    for error in validator.iter_errors(payload):
        path = "/".join("*" if isinstance(p, int) else str(p) for p in error.absolute_path)
        keys[(path, str(error.validator))] = f"{path or '<root>'}: {error.message[:300]}"
    return keys


@functools.cache
def _template_error_keys(event: str, action: str) -> frozenset[tuple[str, str]]:
    validator = _validator(event, action)
    if validator is None:
        return frozenset()
    return frozenset(_error_keys(validator, template(event, action)))


def schema_errors(event: str, payload: dict[str, Any]) -> list[str]:
    """Errors of `payload` the published example for the same event does not have too."""
    action = payload.get("action", "event")
    validator = _validator(event, action)
    if validator is None:
        return []
    known = _template_error_keys(event, action)
    return [msg for key, msg in _error_keys(validator, payload).items() if key not in known]


def new_delivery(event: str, payload: dict[str, Any]) -> Delivery:
    return Delivery(str(uuid.uuid4()), event, payload)


def webhook_headers(delivery_id: str, event: str, body: bytes, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/sim",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-GitHub-Hook-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-Hub-Signature-256": sign(secret, body),
    }


class _PostResponse(Protocol):
    status_code: int


class _Poster(Protocol):
    async def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> Any: ...


def http_sink(client: _Poster, secret: str, path: str = "/webhooks/github") -> Deliver:
    """A `deliver` that POSTs signed deliveries to an app through its test client (e.g.
    Litestar's `AsyncTestClient`, or an `httpx.AsyncClient` on an `ASGITransport`).
    A reply other than 2xx fails the test: GitHub would have recorded a failed delivery."""

    async def deliver(event: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = webhook_headers(str(uuid.uuid4()), event, body, secret)
        response = await client.post(path, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise AssertionError(
                f"webhook {event}.{payload.get('action')} answered {response.status_code}"
            )

    return deliver
