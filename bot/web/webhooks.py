"""`POST /webhooks/github`: verify, store with its job in one transaction, answer 202.

No GitHub or LLM call happens on this path; the worker does the rest. Every outcome is a
status code GitHub's delivery log shows clearly, never a 500 with a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec

from bot.store.incoming import IncomingDelivery, StoreUnavailable
from bot.store.models import utcnow

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MiB
_HEADER_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class _Installation(msgspec.Struct):
    id: int | None = None


class _Repository(msgspec.Struct):
    full_name: str | None = None


class _Numbered(msgspec.Struct):
    number: int | None = None


class _Envelope(msgspec.Struct):
    """The few fields the receiver needs; everything else in the payload is left alone."""

    action: str | None = None
    installation: _Installation | None = None
    repository: _Repository | None = None
    issue: _Numbered | None = None
    pull_request: _Numbered | None = None

    def concurrency_key(self) -> str | None:
        """Deliveries about one issue or PR run one at a time (an issue opened with the
        trigger label arrives as `opened` and `labeled` together)."""
        number = (self.issue and self.issue.number) or (
            self.pull_request and self.pull_request.number
        )
        if number and self.repository and self.repository.full_name:
            return f"{self.repository.full_name}#{number}"
        return None


_decoder = msgspec.json.Decoder(_Envelope)


class Taken(msgspec.Struct):
    """The answer to a delivery the receiver took (the OpenAPI document's schema)."""

    delivery: str
    status: str  # queued, ignored, duplicate or pong


class Refused(msgspec.Struct):
    """The answer to a delivery the receiver refused; `error` says what to fix."""

    error: str


def _taken(description: str) -> ResponseSpec:
    return ResponseSpec(Taken, generate_examples=False, description=description)


def _refused(description: str) -> ResponseSpec:
    return ResponseSpec(Refused, generate_examples=False, description=description)


RESPONSES = {
    202: _taken(
        "Stored with its job (`queued`), stored but not acted on (`ignored`: an event or "
        "action the app does not handle), or the same body under a new delivery id "
        "(`duplicate`: accepted, never acted on twice)"
    ),
    200: _taken(
        "A `ping` (`pong`), or a delivery id already stored (`duplicate`, GitHub's redelivery)"
    ),
    400: _refused(
        "X-GitHub-Event or X-GitHub-Delivery missing or malformed, or the body is not a UTF-8 "
        "JSON object"
    ),
    401: _refused(
        "X-Hub-Signature-256 missing, or not the HMAC-SHA256 of the raw body with WEBHOOK_SECRET"
    ),
    413: _refused("The body is over 25 MiB (GitHub's own limit for a payload)"),
    503: _refused(
        "WEBHOOK_SECRET is not set, or the database did not take the delivery in time: "
        "redeliver it later"
    ),
}


def signature_for(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


_SIGNATURE_LENGTH = len("sha256=") + 64  # hex of a SHA-256 digest


def signature_problem(secret: str, body: bytes, header: str | None) -> str | None:
    """None when `X-Hub-Signature-256` is valid for the raw body, else why not: "missing",
    "malformed" or "mismatch" (a label of `issuewright_webhook_rejected_total`; the sender
    is told only that the signature is missing or invalid).

    Any header value is only ever "not valid": headers arrive decoded as latin-1, so a value
    can hold any character, and `hmac.compare_digest` raises on non-ASCII `str`, so both
    sides are compared as bytes. The length of a signature is public, so checking it first
    leaks nothing and keeps a huge header from being hashed or compared. The comparison
    itself takes constant time.
    """
    if not header:
        return "missing"
    given = header.strip()
    if len(given) != _SIGNATURE_LENGTH or not given.startswith("sha256="):
        return "malformed"
    try:
        given_bytes = given.encode("ascii")
    except UnicodeEncodeError:
        return "malformed"
    if hmac.compare_digest(signature_for(secret, body).encode("ascii"), given_bytes):
        return None
    return "mismatch"


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    return signature_problem(secret, body, header) is None


def _reply(code: int, **content: Any) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(content), status_code=code, media_type="application/json"
    )


def _envelope(body: bytes) -> _Envelope | None:
    """The envelope of a JSON object body, or None when the body is not a JSON object."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError:
        pass  # a JSON object with unexpected field types, or not an object at all
    except msgspec.DecodeError:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    action = data.get("action")
    installation = data.get("installation")
    repository = data.get("repository")
    inst_id = installation.get("id") if isinstance(installation, dict) else None
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    numbered = [data.get(k) for k in ("issue", "pull_request")]
    number = next(
        (n["number"] for n in numbered if isinstance(n, dict) and isinstance(n.get("number"), int)),
        None,
    )
    return _Envelope(
        action=action if isinstance(action, str) else None,
        installation=_Installation(inst_id if isinstance(inst_id, int) else None),
        repository=_Repository(full_name if isinstance(full_name, str) else None),
        issue=_Numbered(number),
    )


def _refuse(app_state: State, reason: str, code: int, error: str) -> Response[bytes]:
    """Answer `code` and count the refusal by `reason` (one of WEBHOOK_REJECTIONS)."""
    metrics = getattr(app_state, "metrics", None)
    if metrics is not None:
        metrics.webhook_rejected(reason)
    return _reply(code, error=error)


@post(
    "/webhooks/github",
    request_max_body_size=MAX_BODY_BYTES,
    status_code=202,
    responses=RESPONSES,
    summary="Receive a GitHub webhook delivery",
    description=(
        "GitHub's webhook delivery: the raw JSON body, signed in X-Hub-Signature-256, with "
        "X-GitHub-Event and X-GitHub-Delivery. Verified, stored with its job in one "
        "transaction and answered at once; the work happens in a worker."
    ),
)
async def receive_webhook(request: Request[Any, Any, State]) -> Response[bytes]:
    app_state = request.app.state
    secret: str | None = app_state.settings.webhook_secret
    if not secret:
        # Never accept a delivery we cannot verify; GitHub's log shows what to do.
        return _refuse(
            app_state, "no_secret", 503, "WEBHOOK_SECRET is not set; see GET / for setup"
        )
    try:
        body = await request.body()
    except RequestEntityTooLarge:
        return _refuse(app_state, "too_large", 413, "the body is over 25 MiB")
    headers = request.headers
    problem = signature_problem(secret, body, headers.get("x-hub-signature-256"))
    if problem is not None:
        error = "missing or invalid X-Hub-Signature-256"
        return _refuse(app_state, f"signature_{problem}", 401, error)
    event = headers.get("x-github-event")
    delivery_id = headers.get("x-github-delivery")
    if not event or not _HEADER_TOKEN.match(event):
        return _refuse(app_state, "bad_headers", 400, "missing or invalid X-GitHub-Event header")
    if not delivery_id or not _HEADER_TOKEN.match(delivery_id):
        error = "missing or invalid X-GitHub-Delivery header"
        return _refuse(app_state, "bad_headers", 400, error)
    envelope = _envelope(body)
    if envelope is None:
        return _refuse(app_state, "bad_body", 400, "body must be a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(app_state, "bad_body", 400, "body must be UTF-8 JSON")

    handled = event != "ping" and app_state.router.handles(event, envelope.action)
    incoming = IncomingDelivery(
        delivery_id=delivery_id,
        event=event,
        action=envelope.action,
        installation_id=envelope.installation.id if envelope.installation else None,
        repository=envelope.repository.full_name if envelope.repository else None,
        payload=text,
        received_at=utcnow(),
        handled=handled,
        concurrency_key=envelope.concurrency_key(),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )
    try:
        outcome = await app_state.writer.store(incoming)
    except StoreUnavailable as exc:
        log.error("delivery %s not stored: %s", delivery_id, exc)
        error = "cannot store the delivery right now; redeliver it later"
        return _refuse(app_state, "store_unavailable", 503, error)
    metrics = getattr(app_state, "metrics", None)
    if metrics is not None:
        counted = "duplicate" if outcome == "replayed" else outcome
        metrics.delivery(event, counted if handled or counted == "duplicate" else "ignored")
    if outcome == "duplicate":
        return _reply(200, delivery=delivery_id, status="duplicate")
    if outcome == "replayed":
        # Accepted (the sender did nothing wrong by GitHub's rules) but never acted on twice.
        return _reply(202, delivery=delivery_id, status="duplicate")
    if event == "ping":
        return _reply(200, delivery=delivery_id, status="pong")
    return _reply(202, delivery=delivery_id, status="queued" if handled else "ignored")
