"""Group commit for webhook deliveries.

Each request hands its delivery to one writer task and waits for the commit. The writer takes
everything that queued up while the previous transaction ran and commits it together, so at
high load many deliveries share one fsync, and at low load each commits alone and at once.
Nothing is acknowledged before its own transaction committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.incoming import IncomingDelivery, Outcome, StoreUnavailable
from bot.store.models import Delivery, Job
from bot.store.sqlite_batch import SQLiteBatchWriter

log = logging.getLogger(__name__)

MAX_BATCH = 256


class DeliveryWriter:
    def __init__(
        self, engine: AsyncEngine, max_attempts: int = 5, wait_seconds: float = 5.0
    ) -> None:
        self._engine = engine
        self._max_attempts = max_attempts
        self._wait_seconds = wait_seconds
        self._pending: asyncio.Queue[tuple[IncomingDelivery, asyncio.Future[Outcome]]] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None
        self.on_commit: list[asyncio.Event] = []  # set after each commit that queued jobs
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._sqlite: SQLiteBatchWriter | None = None
        database = engine.url.database
        if dialect == "sqlite" and database and database != ":memory:":
            self._sqlite = SQLiteBatchWriter(database, max_attempts)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="delivery-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sqlite is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._sqlite.close)
            self._sqlite = None
        while not self._pending.empty():
            _, future = self._pending.get_nowait()
            if not future.done():
                future.set_exception(StoreUnavailable("server is shutting down"))

    async def store(self, delivery: IncomingDelivery) -> Outcome:
        if self._task is None:
            raise StoreUnavailable("delivery writer is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        # A failure set after the receiver stopped waiting is not an unretrieved error.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        await self._pending.put((delivery, future))
        try:
            # Shielded: the batch may still commit later; then GitHub's redelivery of this id
            # is answered as a duplicate and the delivery is acted on once.
            return await asyncio.wait_for(asyncio.shield(future), self._wait_seconds)
        except TimeoutError:
            raise StoreUnavailable(
                f"the database did not answer within {self._wait_seconds:g} s"
            ) from None

    async def _run(self) -> None:
        while True:
            first = await self._pending.get()
            batch = [first]
            while len(batch) < MAX_BATCH and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            try:
                outcomes = await self._commit([item for item, _ in batch])
            except Exception as exc:
                log.error("storing %d deliveries failed: %s", len(batch), type(exc).__name__)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(StoreUnavailable("database unavailable"))
                continue
            for (_item, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
            if any(o == "stored" and i.handled for (i, _), o in zip(batch, outcomes, strict=True)):
                for event in self.on_commit:
                    event.set()

    async def _commit(self, batch: list[IncomingDelivery]) -> list[Outcome]:
        # A delivery id or body seen twice in one batch: the first is stored, the rest are
        # duplicates.
        unique: dict[str, IncomingDelivery] = {}
        bodies: set[str] = set()
        for item in batch:
            if item.delivery_id in unique or (item.body_sha256 and item.body_sha256 in bodies):
                continue
            unique[item.delivery_id] = item
            if item.body_sha256:
                bodies.add(item.body_sha256)
        if self._sqlite is not None:
            writer = self._sqlite
            new, stored_before = await asyncio.get_running_loop().run_in_executor(
                writer.executor, writer.commit, list(unique.values())
            )
            return self._outcomes(batch, unique, new, stored_before)
        rows = [
            {
                "delivery_id": d.delivery_id,
                "event": d.event,
                "action": d.action,
                "installation_id": d.installation_id,
                "repository": d.repository,
                "payload": d.payload,
                "received_at": d.received_at,
                "status": "queued" if d.handled else "ignored",
                "reason": None if d.handled else f"event {d.event}.{d.action} is not handled",
                "body_sha256": d.body_sha256,
            }
            for d in unique.values()
        ]
        # No conflict target: a repeated delivery id and a repeated body are both skipped.
        statement = self._insert(Delivery).on_conflict_do_nothing().returning(Delivery.delivery_id)
        async with self._engine.begin() as connection:
            result = await connection.execute(statement, rows)
            inserted = {row[0] for row in result.all()}
            jobs: list[dict[str, Any]] = [
                {
                    "kind": "delivery",
                    "delivery_id": d.delivery_id,
                    "concurrency_key": d.concurrency_key,
                    "installation_id": d.installation_id,
                    "payload": {},
                    "status": "queued",
                    "attempts": 0,
                    "max_attempts": self._max_attempts,
                    "run_after": d.received_at,
                    "created_at": d.received_at,
                }
                for d in unique.values()
                if d.handled and d.delivery_id in inserted
            ]
            if jobs:
                await connection.execute(insert(Job), jobs)
            known: set[str] = set()
            skipped = [i for i in unique if i not in inserted]
            if skipped:  # a repeated id, or a repeated body under a new id?
                found = await connection.execute(
                    select(Delivery.delivery_id).where(Delivery.delivery_id.in_(skipped))
                )
                known = {row[0] for row in found.all()}
        return self._outcomes(batch, unique, inserted, known)

    @staticmethod
    def _outcomes(
        batch: list[IncomingDelivery],
        unique: dict[str, IncomingDelivery],
        inserted: set[str],
        known: set[str],
    ) -> list[Outcome]:
        """`known`: delivery ids that were stored before this batch."""
        outcomes: list[Outcome] = []
        for item in batch:
            first = unique.get(item.delivery_id)
            if first is item and item.delivery_id in inserted:
                outcomes.append("stored")
            elif item.delivery_id in known or (first is not None and first is not item):
                outcomes.append("duplicate")
            else:
                outcomes.append("replayed")
        return outcomes
