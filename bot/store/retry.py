"""Retrying the writes that record a job's outcome through a database outage.

The GitHub calls of a job are done by the time its outcome is written; if that write fails
once and is dropped, the job keeps its "running" row, loses its heartbeat and is run again in
full after the lease, repeating what people already saw. So outcome writes are retried with
backoff for longer than an outage the receiver rides out with 503s, while the caller keeps
renewing the lease.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Longer than a database restart or failover; a job's lease outlives it through heartbeats.
STORE_RETRY_SECONDS = 120.0
FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 2.0


def is_transient(exc: BaseException) -> bool:
    """A failure of the connection, not of the statement: the same write can succeed later.
    Constraint violations and SQL errors are not retried (they would fail the same way)."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or _is_connection_error(exc.orig)
    return isinstance(exc, (OSError, TimeoutError, ConnectionError)) or _is_connection_error(exc)


def _is_connection_error(exc: BaseException | None) -> bool:
    # asyncpg's connection failures, without importing asyncpg where SQLite is used.
    names = {c.__name__ for c in type(exc).__mro__} if exc is not None else set()
    return bool(names & {"PostgresConnectionError", "ConnectionDoesNotExistError"}) or isinstance(
        exc, (OSError, ConnectionError)
    )


async def retry_store_write(
    write: Callable[[], Awaitable[T]],
    what: str,
    *,
    budget_seconds: float = STORE_RETRY_SECONDS,
) -> T:
    """Run `write` until it succeeds, retrying transient database failures with capped
    exponential backoff for up to `budget_seconds`; then the last failure is raised."""
    deadline = time.monotonic() + budget_seconds
    delay = FIRST_DELAY_SECONDS
    failures = 0
    while True:
        try:
            result = await write()
        except Exception as exc:
            if not is_transient(exc) or time.monotonic() + delay > deadline:
                raise
            failures += 1
            log.warning("%s failed (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(MAX_DELAY_SECONDS, delay * 2)
            continue
        if failures:
            log.info("%s succeeded after %d retries", what, failures)
        return result
