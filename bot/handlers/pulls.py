"""`pull_request` and reviews on a task's PR."""

from __future__ import annotations

from bot.core.lifecycle import TaskEvent
from bot.dispatch import DeliveryEvent, Router
from bot.repo_access import RepoAccess
from bot.runs import enqueue_task_job, may_command
from bot.runtime import HandlerContext
from bot.taskstore import apply_event, task_by_pr
from bot.tracker import ignore, on_closed, on_foreign_push, on_merged

router = Router()


async def _task(ctx: HandlerContext, delivery: DeliveryEvent):  # type: ignore[no-untyped-def]
    pr = delivery.payload.get("pull_request") or {}
    if not delivery.repository or "number" not in pr:
        return None
    async with ctx.sessions() as session:
        task = await task_by_pr(session, delivery.repository, pr["number"])
    if task is None:
        await ignore(ctx, delivery.delivery_id, f"PR #{pr['number']} is not one of the app's")
    return task


@router.on("pull_request", "closed", "reopened", "synchronize")
async def on_pull_request(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    task = await _task(ctx, delivery)
    if task is None:
        return
    repo = RepoAccess.open(ctx, delivery.installation_id, delivery.repository or "")
    cause = f"delivery:{delivery.delivery_id}"
    pr = delivery.payload["pull_request"]
    if delivery.action == "closed":
        if pr.get("merged"):
            await on_merged(ctx, repo, task.id, cause)
        else:
            await on_closed(ctx, repo, task.id, TaskEvent.CLOSED, cause)
    elif delivery.action == "reopened":
        await on_closed(ctx, repo, task.id, TaskEvent.REOPENED, cause)
    elif delivery.action == "synchronize":
        after = delivery.payload.get("after") or (pr.get("head") or {}).get("sha")
        if after and after != task.head_sha and not delivery.sender_is_bot:
            await on_foreign_push(
                ctx, repo, task.id, after, delivery.sender.get("login", "someone"), cause
            )


@router.on("pull_request_review", "submitted")
@router.on("pull_request_review_comment", "created")
async def on_review(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    if delivery.sender_is_bot:
        return
    if delivery.event == "pull_request_review":
        review = delivery.payload.get("review") or {}
        if (review.get("state") or "").lower() != "changes_requested":
            return
    else:
        body = (delivery.payload.get("comment") or {}).get("body") or ""
        if f"@{ctx.settings.app_slug}" not in body.lower():
            return  # a review comment for people, not addressed to the app
    task = await _task(ctx, delivery)
    if task is None:
        return
    repo = RepoAccess.open(ctx, delivery.installation_id, delivery.repository or "")
    login = delivery.sender.get("login", "")
    if not await may_command(repo, login):
        await ignore(ctx, delivery.delivery_id, f"review by {login}, who has no write permission")
        return
    async with ctx.sessions() as session, session.begin():
        row = await session.get(type(task), task.id)
        assert row is not None
        if await apply_event(
            session, row, TaskEvent.REVIEW_CHANGES_REQUESTED, f"delivery:{delivery.delivery_id}"
        ):
            await enqueue_task_job(session, row, "review")
    ctx.wake.set()
