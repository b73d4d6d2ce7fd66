"""`issue_comment`: `/issuewright …` commands (once per comment id, only from people with
write permission) and retry checkboxes ticked in the status comment."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.core.commands import help_text, parse_command, retry_checkboxes, ticked_retries
from bot.core.lifecycle import TaskState, is_stopped
from bot.core.render import STATUS_MARKER
from bot.jobs.dispatch import DeliveryEvent, Router
from bot.repo.access import RepoAccess
from bot.repo.permissions import may_command, reply_denied
from bot.report.reply_once import reply_once
from bot.runtime import HandlerContext
from bot.store.models import CommandRun
from bot.store.retry import retry_store_write
from bot.track.commands import ACTIONS, CommandFailed, Target, find_target

log = logging.getLogger(__name__)
router = Router()


async def _claim(
    ctx: HandlerContext, comment: dict[str, Any], repo: str, number: int, user: str, name: str
) -> bool:
    """Record the command; False when this comment id already ran (redelivery, replay)."""
    try:
        async with ctx.sessions() as session, session.begin():
            existing = await session.get(CommandRun, comment["id"])
            if existing is not None:
                # "running": the job that claimed it died before finishing; run it again
                # (every action is idempotent through the lifecycle table).
                return existing.outcome == "running"
            session.add(
                CommandRun(
                    comment_id=comment["id"],
                    repository=repo,
                    issue_number=number,
                    user=user,
                    command=name,
                )
            )
    except IntegrityError:
        return False
    return True


async def _finish(ctx: HandlerContext, comment_id: int, outcome: str, message: str | None) -> None:
    """Record the outcome, through a database blip: a dropped write would leave the command
    "running" and the whole job, replies included, would run again."""

    async def write() -> None:
        async with ctx.sessions() as session, session.begin():
            row = await session.get(CommandRun, comment_id)
            if row is not None:
                row.outcome, row.message = outcome, message

    await retry_store_write(write, f"recording command {comment_id}'s outcome")


@router.on("issue_comment", "created")
async def on_comment(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    comment = delivery.payload.get("comment") or {}
    issue = delivery.payload.get("issue") or {}
    if (
        delivery.sender_is_bot
        or (comment.get("user") or {}).get("type") == "Bot"
        or not delivery.repository
    ):
        return  # bots (this app included) never command
    command = parse_command(comment.get("body"), ctx.settings.app_slug)
    if command is None:
        return
    user = (comment.get("user") or {}).get("login", "")
    if not await _claim(ctx, comment, delivery.repository, issue["number"], user, command.name):
        log.info("comment %s already ran its command", comment.get("id"))
        return
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository, delivery.repository_id
    )
    if not await may_command(repo, user):
        await reply_denied(repo, issue["number"], user, comment_id=comment["id"])
        await _finish(ctx, comment["id"], "denied", "no write permission")
        return
    await repo.api.react_to_comment(repo.owner, repo.name, comment["id"], "eyes")
    try:
        if command.error:
            raise CommandFailed(command.error)
        if command.name == "help":
            prefix = f"Unknown command `{command.unknown}`.\n\n" if command.unknown else ""
            await reply_once(
                repo,
                issue["number"],
                f"comment:{comment['id']}:help",
                prefix + help_text(ctx.settings.app_slug),
            )
            message = "help"
        else:
            target: Target = await find_target(ctx, repo, issue, command.task)
            message = await ACTIONS[command.name](
                ctx, repo, target, command, f"comment:{comment['id']}", user
            )
    except CommandFailed as exc:
        await repo.api.react_to_comment(repo.owner, repo.name, comment["id"], "confused")
        await reply_once(
            repo, issue["number"], f"comment:{comment['id']}:refused", f"@{user} {exc}"
        )
        await _finish(ctx, comment["id"], "refused", str(exc))
        return
    await repo.api.react_to_comment(repo.owner, repo.name, comment["id"], "rocket")
    await _finish(ctx, comment["id"], "done", message)


@router.on("issue_comment", "edited")
async def on_comment_edited(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    """A person ticked `- [ ] retry task N` in the status comment: same as the command."""
    comment = delivery.payload.get("comment") or {}
    issue = delivery.payload.get("issue") or {}
    body = comment.get("body") or ""
    if delivery.sender_is_bot or STATUS_MARKER not in body or not delivery.repository:
        return
    if (comment.get("user") or {}).get("login") != ctx.require_github().bot_login:
        return  # someone quoting the marker in their own comment
    old = ((delivery.payload.get("changes") or {}).get("body") or {}).get("from")
    ticked = ticked_retries(old, body)
    if not ticked:
        return
    user = delivery.sender.get("login", "")
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository, delivery.repository_id
    )
    if not await may_command(repo, user):
        await reply_denied(repo, issue["number"], user)
        return
    # A redelivered or replayed edit must not retry again: act only on boxes that are still
    # ticked now (the app re-renders the comment, unticked, when the retry starts) and on
    # tasks that are still stopped (the only ones offered a box).
    current = await repo.api.get_comment(repo.owner, repo.name, comment["id"])
    still = retry_checkboxes(current.body if current else body)
    target = await find_target(ctx, repo, issue, None)
    stopped = {t.ordinal for t in target.tasks if is_stopped(TaskState(t.state))}
    ticked = [n for n in ticked if still.get(n) and n in stopped]
    if not ticked:
        log.info("retry boxes %s: already handled or no longer offered", comment.get("id"))
        return
    for ordinal in ticked:
        try:
            await ACTIONS["retry"](
                ctx, repo, target.for_task(ordinal), None, f"delivery:{delivery.delivery_id}", user
            )
        except CommandFailed as exc:
            key = f"delivery:{delivery.delivery_id}:retry:{ordinal}"
            await reply_once(repo, issue["number"], key, f"@{user} {exc}")
