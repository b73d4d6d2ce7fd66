"""A delivery on its way into the store, and what became of it: the types the webhook route
and both write paths (bot/store/ingest.py, bot/store/sqlite_batch.py) share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# "duplicate": this delivery id was stored before; "replayed": this body was stored before
# under another delivery id (a captured signed body sent again). Neither is acted on.
Outcome = Literal["stored", "duplicate", "replayed"]


@dataclass(frozen=True)
class IncomingDelivery:
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    payload: str
    received_at: datetime
    handled: bool  # False → stored as "ignored", no job
    concurrency_key: str | None = None  # "owner/repo#number" for issue and PR events
    # sha256 of the raw body: the same signed body under another delivery id is a replay,
    # answered as a duplicate (GitHub's own redeliveries keep their delivery id).
    body_sha256: str | None = None


class StoreUnavailable(RuntimeError):
    """The database could not take the delivery; the caller answers 503 so GitHub shows it."""
