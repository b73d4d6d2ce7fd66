"""Installation lifecycle through the app with GitHub's published payloads.

The published examples each carry a different installation id; the test rewrites them all
to one installation (and keeps each file's repositories) so they read as one story.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.models import Delivery, Event, Installation, Repository
from tests.conftest import make_settings
from tests.harness import Harness, running_app
from tests.ingest.helpers import load_payload

INSTALLATION_ID = 4242


def adapted(name: str) -> dict[str, Any]:
    payload = load_payload(name)
    payload["installation"]["id"] = INSTALLATION_ID
    return payload


@pytest.fixture
async def harness(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Harness]:
    async with running_app(make_settings(tmp_path, sqlite_url)) as h:
        yield h


async def state(h: Harness) -> tuple[str | None, dict[str, bool]]:
    async with h.sessions() as session:
        installation = await session.get(Installation, INSTALLATION_ID)
        repos = (await session.execute(select(Repository))).scalars().all()
    return (installation.status if installation else None), {r.full_name: r.removed for r in repos}


async def test_install_add_remove_suspend_uninstall(harness: Harness) -> None:
    created = adapted("installation.created.0.json")
    await harness.deliver("installation", created)
    status, repos = await state(harness)
    assert status == "active"
    assert repos == {r["full_name"]: False for r in created["repositories"]}

    added = adapted("installation_repositories.added.0.json")
    await harness.deliver("installation_repositories", added)
    _, repos = await state(harness)
    for repo in added["repositories_added"]:
        assert repos[repo["full_name"]] is False

    removed = adapted("installation_repositories.removed.0.json")
    await harness.deliver("installation_repositories", removed)
    _, repos = await state(harness)
    for repo in removed["repositories_removed"]:
        assert repos[repo["full_name"]] is True

    await harness.deliver("installation", adapted("installation.suspend.0.json"))
    assert (await state(harness))[0] == "suspended"

    # A delivery for the suspended installation is recorded with the reason, not acted on.
    issue = load_payload("issues.opened.0.json")
    issue["installation"] = {"id": INSTALLATION_ID}
    await harness.deliver("issues", issue, delivery="while-suspended")
    async with harness.sessions() as session:
        row = (
            await session.execute(select(Delivery).where(Delivery.delivery_id == "while-suspended"))
        ).scalar_one()
        handled = (
            await session.execute(select(Event).where(Event.delivery_id == "while-suspended"))
        ).all()
    assert row.status == "skipped" and row.reason == f"installation {INSTALLATION_ID} is suspended"
    assert handled == []

    await harness.deliver("installation", adapted("installation.unsuspend.0.json"))
    assert (await state(harness))[0] == "active"

    await harness.deliver("installation", adapted("installation.deleted.0.json"))
    status, repos = await state(harness)
    assert status == "deleted" and all(repos.values())


async def test_delivery_without_installation_is_recorded_not_acted_on(harness: Harness) -> None:
    payload = load_payload("issues.labeled.0.json")
    assert "installation" not in payload  # the published example has none
    await harness.deliver("issues", payload, delivery="no-inst")
    async with harness.sessions() as session:
        row = (
            await session.execute(select(Delivery).where(Delivery.delivery_id == "no-inst"))
        ).scalar_one()
    assert row.status == "skipped" and "no installation" in (row.reason or "")


async def test_without_credentials_deliveries_are_kept_and_not_acted_on(harness: Harness) -> None:
    payload = load_payload("issues.opened.0.json")
    payload["installation"] = {"id": 1}
    await harness.deliver("issues", payload, delivery="ok-1")
    async with harness.sessions() as session:
        query = select(Delivery).where(Delivery.delivery_id == "ok-1")
        row = (await session.execute(query)).scalar_one()
    assert row.status == "skipped" and "no credentials" in (row.reason or "")
