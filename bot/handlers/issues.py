"""`issues`: the trigger label starts work (or a plan), removing it cancels what has not
started."""

from __future__ import annotations

import logging

from bot.core.approval import github_time, text_hash
from bot.core.lifecycle import TaskEvent
from bot.jobs.dispatch import DeliveryEvent, Router
from bot.jobs.schedule import cancel_not_started
from bot.plan.approvals import (
    acts,
    approve_text,
    has_edit_note,
    label_event,
    note_ignored_edit,
    record_label_event,
)
from bot.plan.start import start_run
from bot.repo.access import RepoAccess
from bot.repo.permissions import may_command, reply_denied
from bot.report.publish import publish_run
from bot.runtime import HandlerContext
from bot.store.tasks import get_run, save_stage

log = logging.getLogger(__name__)
router = Router()


async def _ignore(ctx: HandlerContext, delivery: DeliveryEvent, reason: str) -> None:
    await save_stage(ctx.sessions, "ignored", reason, delivery_id=delivery.delivery_id)


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
    event = label_event(delivery.action or "", delivery.payload)
    async with ctx.sessions() as session:
        run = await get_run(
            session, delivery.repository_id, delivery.installation_id, issue["number"]
        )
    if not acts(run, event):
        # A captured body sent again after its delivery was pruned, or a late one: what a
        # newer label event decided (a cancel, say) stands.
        await _ignore(ctx, delivery, "an older or repeated label event is not acted on")
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
    # The label approves the issue text as this event carries it (not as it is by now).
    await start_run(
        repo,
        issue,
        sender,
        plan_only=plan_only,
        cause=f"delivery:{delivery.delivery_id}",
        label_event=event,
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
    event = label_event("unlabeled", delivery.payload)
    if not acts(run, event):
        await _ignore(ctx, delivery, "an older or repeated label event is not acted on")
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
    await publish_run(
        ctx,
        repo.api,
        run.id,
        message="The trigger label was removed: tasks that had not started are cancelled."
        if cancelled
        else None,
    )
    await record_label_event(ctx, run.id, event)  # acted on and shown: a re-run ignores it


@router.on("issues", "edited")
async def on_edited(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    """Work is built from the text a maintainer approved. An edit by someone with write
    permission approves the new text; anyone else's is ignored, and the status comment says
    so and how to approve it."""
    issue = delivery.payload.get("issue") or {}
    changes = delivery.payload.get("changes") or {}
    if not delivery.repository or "number" not in issue or not {"title", "body"} & set(changes):
        return
    async with ctx.sessions() as session:
        run = await get_run(
            session, delivery.repository_id, delivery.installation_id, issue["number"]
        )
    if run is None or run.approved_hash is None:
        return  # nothing approved yet: the label will take the text as it is then
    title, body = issue.get("title"), issue.get("body")
    login = delivery.sender.get("login", "")
    if text_hash(title, body) == run.approved_hash or login == ctx.require_github().bot_login:
        return  # back to the approved text, or the app ticking a task's checkbox
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository, delivery.repository_id
    )
    if await may_command(repo, login):
        await approve_text(ctx, run.id, title, body, login)
        if has_edit_note(run):
            await publish_run(ctx, repo.api, run.id)
        return
    log.info("%s#%s: edit by %s ignored", delivery.repository, issue["number"], login)
    await _ignore(ctx, delivery, f"{login} edited the approved issue without write permission")
    await note_ignored_edit(ctx, run.id, login, github_time(issue.get("updated_at")))
    await publish_run(ctx, repo.api, run.id)
