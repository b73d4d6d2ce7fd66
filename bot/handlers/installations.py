"""`installation` and `installation_repositories`: keep the installations and repositories
tables current. Other handlers consult them through `installation_gate`."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs.dispatch import DeliveryEvent, Router
from bot.runtime import HandlerContext
from bot.store.models import Installation, Repository, utcnow

log = logging.getLogger(__name__)
router = Router()

STATUS_BY_ACTION = {
    "created": "active",
    "unsuspend": "active",
    "new_permissions_accepted": "active",
    "suspend": "suspended",
    "deleted": "deleted",
}


async def _upsert_installation(
    session: AsyncSession, data: dict[str, Any], status: str
) -> Installation:
    account = data.get("account") or {}
    installation = await session.get(Installation, int(data["id"]))
    if installation is None:
        installation = Installation(id=int(data["id"]), account_login=str(account.get("login", "")))
        session.add(installation)
    installation.account_login = str(account.get("login") or installation.account_login)
    installation.account_type = account.get("type") or installation.account_type
    installation.permissions = dict(data.get("permissions") or {})
    installation.events = list(data.get("events") or [])
    installation.status = status
    installation.updated_at = utcnow()
    await session.flush()
    return installation


async def _add_repositories(
    session: AsyncSession, installation_id: int, repos: list[dict[str, Any]], removed: bool = False
) -> None:
    for repo in repos:
        row = await session.get(Repository, int(repo["id"]))
        if row is None:
            row = Repository(
                id=int(repo["id"]), installation_id=installation_id, full_name=repo["full_name"]
            )
            session.add(row)
        row.installation_id = installation_id
        row.full_name = repo["full_name"]
        row.private = bool(repo.get("private", False))
        row.removed = removed
        row.updated_at = utcnow()


@router.on("installation", *STATUS_BY_ACTION)
async def on_installation(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    data = delivery.payload.get("installation") or {}
    if "id" not in data:
        return
    status = STATUS_BY_ACTION[delivery.action or ""]
    async with ctx.sessions() as session, session.begin():
        installation = await _upsert_installation(session, data, status)
        if delivery.action == "created":
            await _add_repositories(
                session, installation.id, delivery.payload.get("repositories") or []
            )
        if delivery.action == "deleted":
            await session.execute(
                update(Repository)
                .where(Repository.installation_id == installation.id)
                .values(removed=True, updated_at=utcnow())
            )
    log.info("installation %s (%s) is %s", data["id"], installation.account_login, status)


@router.on("installation_repositories", "added", "removed")
async def on_installation_repositories(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    data = delivery.payload.get("installation") or {}
    if "id" not in data:
        return
    async with ctx.sessions() as session, session.begin():
        installation = await session.get(Installation, int(data["id"]))
        if installation is None:
            # We missed `installation.created` (app installed before this server existed).
            installation = await _upsert_installation(session, data, "active")
        await _add_repositories(
            session, installation.id, delivery.payload.get("repositories_added") or []
        )
        # Rows for repositories we never saw are kept too, so later deliveries are refused.
        removed = delivery.payload.get("repositories_removed") or []
        await _add_repositories(session, installation.id, removed, removed=True)


@router.gate
async def installation_gate(ctx: HandlerContext, delivery: DeliveryEvent) -> str | None:
    """Why this delivery must not be acted on, or None when it may be.

    Installation events always pass (they are how we learn about installations). Anything
    else needs an installation that is not suspended or deleted, and a repository that was
    not removed from it."""
    if delivery.event in {"installation", "installation_repositories"}:
        return None
    if delivery.installation_id is None:
        return "the delivery has no installation (not sent to an installed GitHub App)"
    async with ctx.sessions() as session:
        installation = await session.get(Installation, delivery.installation_id)
        if installation is not None and installation.status != "active":
            return f"installation {delivery.installation_id} is {installation.status}"
        if delivery.repository:
            # By id when the delivery names one: a re-created repository with an old name is
            # another repository.
            same = (
                Repository.id == delivery.repository_id
                if delivery.repository_id is not None
                else Repository.full_name == delivery.repository
            )
            removed = (
                (
                    await session.execute(
                        select(Repository.removed).where(
                            same, Repository.installation_id == delivery.installation_id
                        )
                    )
                )
                .scalars()
                .first()
            )
            if removed:
                return f"repository {delivery.repository} was removed from the installation"
    if ctx.github is None:
        return (
            "the GitHub App has no credentials yet (APP_ID / PRIVATE_KEY); see GET / on the server"
        )
    return None
