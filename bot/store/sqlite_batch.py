"""The SQLite write path for deliveries, on the standard `sqlite3` module in one thread.

At the embedded default the receiver's throughput is decided by how deliveries are
written: one `sqlite3` transaction per batch (BEGIN IMMEDIATE, so no other writer can slip
in between the duplicate check and the insert) costs a fraction of the same through the
async ORM stack. Rows are written exactly as SQLAlchemy writes them, so the rest of the
app reads them through its models unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.incoming import IncomingDelivery

_INSERT_DELIVERY = (
    "INSERT OR IGNORE INTO deliveries (delivery_id, event, action, installation_id, repository,"
    " payload, received_at, status, reason, body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_JOB = (
    "INSERT INTO jobs (kind, delivery_id, concurrency_key, installation_id, payload, status,"
    " attempts, max_attempts, run_after, created_at)"
    " VALUES ('delivery', ?, ?, ?, '{}', 'queued', 0, ?, ?, ?)"
)


CHECKPOINT_EVERY_ROWS = 200  # ~2.5 MB of 12 KB deliveries


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime format


class SQLiteBatchWriter:
    def __init__(self, path: str, max_attempts: int) -> None:
        self._path = path
        self._max_attempts = max_attempts
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="delivery-writer")
        self._conn: sqlite3.Connection | None = None
        # Checkpoints (the only fsync of the database file in WAL mode) run on their own
        # connection and thread, so no delivery waits for one.
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="wal-checkpoint")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._pending_checkpoint: Future[None] | None = None
        self._rows_since_checkpoint = 0

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._path, timeout=15, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=15000")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._conn = conn
        return self._conn

    def _checkpoint(self) -> None:
        if self._checkpoint_conn is None:
            self._checkpoint_conn = sqlite3.connect(self._path, timeout=15, check_same_thread=False)
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _maybe_checkpoint(self, rows: int) -> None:
        self._rows_since_checkpoint += rows
        busy = self._pending_checkpoint is not None and not self._pending_checkpoint.done()
        if self._rows_since_checkpoint >= CHECKPOINT_EVERY_ROWS and not busy:
            self._rows_since_checkpoint = 0
            self._pending_checkpoint = self._checkpointer.submit(self._checkpoint)

    def commit(self, batch: Sequence[IncomingDelivery]) -> tuple[set[str], set[str]]:
        """Store the batch; returns the delivery ids that were new, and those of the batch
        that were stored before (the rest repeat a body stored before under another id)."""
        conn = self._connect()
        ids = [d.delivery_id for d in batch]
        hashes = [d.body_sha256 for d in batch if d.body_sha256]
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Only "?" placeholders are formatted in; the ids themselves are bound parameters.
            query = "SELECT delivery_id FROM deliveries WHERE delivery_id IN (%s)" % ",".join(  # noqa: S608, UP031
                "?" * len(ids)
            )
            seen = {row[0] for row in conn.execute(query, ids)}
            seen_bodies: set[str] = set()
            if hashes:
                query = "SELECT body_sha256 FROM deliveries WHERE body_sha256 IN (%s)" % ",".join(  # noqa: S608, UP031
                    "?" * len(hashes)
                )
                seen_bodies = {row[0] for row in conn.execute(query, hashes)}
            new = [
                d
                for d in batch
                if d.delivery_id not in seen and (d.body_sha256 or "") not in seen_bodies
            ]
            conn.executemany(
                _INSERT_DELIVERY,
                [
                    (
                        d.delivery_id,
                        d.event,
                        d.action,
                        d.installation_id,
                        d.repository,
                        d.payload,
                        _stamp(d.received_at),
                        "queued" if d.handled else "ignored",
                        None if d.handled else f"event {d.event}.{d.action} is not handled",
                        d.body_sha256,
                    )
                    for d in new
                ],
            )
            conn.executemany(
                _INSERT_JOB,
                [
                    (
                        d.delivery_id,
                        d.concurrency_key,
                        d.installation_id,
                        self._max_attempts,
                        _stamp(d.received_at),
                        _stamp(d.received_at),
                    )
                    for d in new
                    if d.handled
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._maybe_checkpoint(len(new))
        return {d.delivery_id for d in new}, seen

    def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._thread.submit(_close).result()
        self._thread.shutdown(wait=True)
        self._checkpointer.submit(self._checkpoint).result()  # leave a short WAL behind
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
        self._checkpointer.shutdown(wait=True)

    @property
    def executor(self) -> ThreadPoolExecutor:
        return self._thread
