"""The delivery writer on SQLite (its sqlite3 batch path) and PostgreSQL (SQLAlchemy):
every delivery committed once with its job, repeats answered as duplicates."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.store.db import make_engine, make_session_factory
from bot.store.incoming import IncomingDelivery
from bot.store.ingest import DeliveryWriter
from bot.store.models import Delivery, Job, utcnow


def incoming(delivery_id: str, handled: bool = True) -> IncomingDelivery:
    return IncomingDelivery(
        delivery_id,
        "issues",
        "labeled",
        7,
        "octo/repo",
        '{"action": "labeled"}',
        utcnow(),
        handled,
        "octo/repo#1",
    )


async def test_concurrent_deliveries_and_repeats(database_url: str) -> None:
    engine = make_engine(database_url)
    writer = DeliveryWriter(engine, max_attempts=3)
    writer.start()
    try:
        ids = [f"d-{i}" for i in range(40)]
        outcomes = await asyncio.gather(
            *(writer.store(incoming(i)) for i in ids),
            writer.store(incoming("d-0")),  # the same id in the same batch
            writer.store(incoming("ignored-1", handled=False)),
        )
        assert outcomes.count("stored") == 41 and outcomes.count("duplicate") == 1
        assert await writer.store(incoming("d-5")) == "duplicate"  # a later redelivery
    finally:
        await writer.stop()
    async with make_session_factory(engine)() as session:
        deliveries = {d.delivery_id: d for d in (await session.execute(select(Delivery))).scalars()}
        jobs = (await session.execute(select(Job))).scalars().all()
    await engine.dispose()
    assert len(deliveries) == 41 and deliveries["ignored-1"].status == "ignored"
    assert deliveries["d-3"].received_at is not None and deliveries["d-3"].status == "queued"
    assert sorted(j.delivery_id for j in jobs) == sorted(ids)
    assert {(j.max_attempts, j.concurrency_key, j.status) for j in jobs} == {
        (3, "octo/repo#1", "queued")
    }


def replayed(delivery_id: str, body: str) -> IncomingDelivery:
    import hashlib

    return IncomingDelivery(
        delivery_id,
        "issues",
        "labeled",
        7,
        "octo/repo",
        body,
        utcnow(),
        True,
        "octo/repo#1",
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
    )


async def test_the_same_body_under_a_new_delivery_id_is_a_duplicate(database_url: str) -> None:
    """A captured signed body re-sent with a fresh X-GitHub-Delivery is stored once, with one
    job: in one batch and later (SQLite's sqlite3 path and PostgreSQL's)."""
    engine = make_engine(database_url)
    writer = DeliveryWriter(engine, max_attempts=3)
    writer.start()
    try:
        first, other = '{"action": "labeled", "n": 1}', '{"action": "labeled", "n": 2}'
        outcomes = await asyncio.gather(
            writer.store(replayed("a-1", first)),
            writer.store(replayed("a-2", first)),  # same body, same batch
            writer.store(replayed("b-1", other)),
        )
        assert outcomes == ["stored", "replayed", "stored"]
        assert await writer.store(replayed("a-3", first)) == "replayed"  # a later replay
        assert await writer.store(replayed("b-1", first)) == "duplicate"  # a repeated id
    finally:
        await writer.stop()
    async with make_session_factory(engine)() as session:
        deliveries = (await session.execute(select(Delivery))).scalars().all()
        jobs = (await session.execute(select(Job))).scalars().all()
    await engine.dispose()
    assert sorted(d.delivery_id for d in deliveries) == ["a-1", "b-1"]
    assert sorted(j.delivery_id for j in jobs) == ["a-1", "b-1"]
