"""`issues`: the trigger label starts work (or a plan), removing it cancels what has not
started."""

from __future__ import annotations

import logging

from bot.core.lifecycle import TaskEvent
from bot.dispatch import DeliveryEvent, Router
from bot.repo_access import RepoAccess
from bot.runs import cancel_not_started, may_command, reply_denied, start_run
from bot.runtime import HandlerContext
from bot.status import show
from bot.taskstore import get_run, record_stage

log = logging.getLogger(__name__)
router = Router()


async def _ignore(ctx: HandlerContext, delivery: DeliveryEvent, reason: str) -> None:
    async with ctx.sessions() as session, session.begin():
        await record_stage(session, "ignored", reason, delivery_id=delivery.delivery_id)


@router.on("issues", "labeled", "opened")
async def on_labeled(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    issue = delivery.payload.get("issue") or {}
    if not delivery.repository or "number" not in issue:
        return
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository, delivery.repository_id
    )
    config, _ = await repo.config()
    if delivery.action == "labeled":
        names = {(delivery.payload.get("label") or {}).get("name")}
    else:
        names = {
            label.get("name") for label in issue.get("labels") or [] if isinstance(label, dict)
        }
    triggered = config.trigger_label in names
    # When a config names one label for both, it must still be able to start work.
    plan_only = config.plan_label in names and not triggered
    if not plan_only and not triggered:
        return
    if issue.get("pull_request"):
        await _ignore(
            ctx, delivery, "the trigger label on a pull request is ignored; label an issue"
        )
        return
    if delivery.sender_is_bot:
        await _ignore(ctx, delivery, "label added by a bot")
        return
    sender = delivery.sender.get("login", "")
    if not await may_command(repo, sender):
        await reply_denied(repo, issue["number"], sender)
        await _ignore(ctx, delivery, f"{sender} has no write permission")
        return
    await repo.api.react_to_issue(repo.owner, repo.name, issue["number"], "eyes")
    await start_run(
        repo, issue, sender, plan_only=plan_only, cause=f"delivery:{delivery.delivery_id}"
    )


@router.on("issues", "unlabeled")
async def on_unlabeled(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    issue = delivery.payload.get("issue") or {}
    label = (delivery.payload.get("label") or {}).get("name")
    if not delivery.repository or "number" not in issue:
        return
    async with ctx.sessions() as session:
        run = await get_run(
            session, delivery.repository_id, delivery.installation_id, issue["number"]
        )
    if run is None:
        return
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository, delivery.repository_id
    )
    config, _ = await repo.config()
    if label != config.trigger_label:
        return
    cancelled = await cancel_not_started(
        ctx, run.id, f"delivery:{delivery.delivery_id}", TaskEvent.LABEL_REMOVED
    )
    log.info(
        "label removed from %s#%s: cancelled tasks %s",
        delivery.repository,
        issue["number"],
        cancelled,
    )
    await show(
        ctx,
        repo.api,
        run.id,
        message="The trigger label was removed: tasks that had not started are cancelled."
        if cancelled
        else None,
    )
