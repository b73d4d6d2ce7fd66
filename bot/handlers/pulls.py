"""`pull_request` and reviews on a task's PR."""

from __future__ import annotations

from bot.core.lifecycle import TaskEvent
from bot.jobs.dispatch import DeliveryEvent, Router
from bot.jobs.schedule import enqueue_task_job
from bot.repo.access import RepoAccess
from bot.repo.permissions import may_command
from bot.report.check_run import mirror_task
from bot.report.publish import publish_task
from bot.runtime import HandlerContext
from bot.store.tasks import applied_by, apply_event, task_by_branch, task_by_pr
from bot.track.tracker import ignore, on_closed, on_foreign_push, on_merged

router = Router()


async def _task(ctx: HandlerContext, delivery: DeliveryEvent):  # type: ignore[no-untyped-def]
    pr = delivery.payload.get("pull_request") or {}
    if not delivery.repository or "number" not in pr:
        return None
    async with ctx.sessions() as session:
        repo_id, installation_id = delivery.repository_id, delivery.installation_id
        task = await task_by_pr(session, repo_id, installation_id, pr["number"])
        head = pr.get("head") or {}
        if task is None and delivery.action == "opened" and head.get("ref"):
            # `opened` can arrive before the attempt stored the PR number; the branch is
            # the app's own and names the task.
            task = await task_by_branch(session, repo_id, installation_id, head["ref"])
    if task is None:
        await ignore(ctx, delivery.delivery_id, f"PR #{pr['number']} is not one of the app's")
    return task


@router.on("pull_request", "opened", "closed", "reopened", "synchronize")
async def on_pull_request(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    task = await _task(ctx, delivery)
    if task is None:
        return
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository or "", delivery.repository_id
    )
    cause = f"delivery:{delivery.delivery_id}"
    pr = delivery.payload["pull_request"]
    if delivery.action == "opened":
        # The PR exists: its head gets the check run mirroring the task.
        await mirror_task(repo, task)
    elif delivery.action == "closed":
        if pr.get("merged"):
            await on_merged(ctx, repo, task.id, cause)
        else:
            await on_closed(ctx, repo, task.id, TaskEvent.CLOSED, cause)
    elif delivery.action == "reopened":
        await on_closed(ctx, repo, task.id, TaskEvent.REOPENED, cause)
    elif delivery.action == "synchronize":
        after = delivery.payload.get("after") or (pr.get("head") or {}).get("sha")
        ours = delivery.sender.get("login") == ctx.require_github().bot_login
        # Another bot's push (a formatter, dependabot) is as foreign as a person's.
        if after and after != task.head_sha and not ours:
            await on_foreign_push(
                ctx, repo, task.id, after, delivery.sender.get("login", "someone"), cause
            )
        elif after and after == task.head_sha:
            await publish_task(ctx, repo, task.id)  # the app's own push: its new head's check run


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
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository or "", delivery.repository_id
    )
    login = delivery.sender.get("login", "")
    if not await may_command(repo, login):
        await ignore(ctx, delivery.delivery_id, f"review by {login}, who has no write permission")
        return
    cause, event = f"delivery:{delivery.delivery_id}", TaskEvent.REVIEW_CHANGES_REQUESTED
    async with ctx.sessions() as session, session.begin():
        row = await session.get(type(task), task.id)
        assert row is not None
        # Run again after a kill, the delivery finds the attempt it asked for (which may have
        # run since) instead of asking for a second one.
        if not await applied_by(session, row.id, event, cause):
            if await apply_event(session, row, event, cause):
                await enqueue_task_job(session, row, "review")
    ctx.wake.set()
