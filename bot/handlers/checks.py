"""`check_suite` / `check_run`: CI results on a task's PR head."""

from __future__ import annotations

from bot.jobs.dispatch import DeliveryEvent, Router
from bot.repo.access import RepoAccess
from bot.runtime import HandlerContext
from bot.track.tracker import ignore, on_checks, task_for_sha

router = Router()


@router.on("check_suite", "requested", "rerequested", "completed")
@router.on("check_run", "created", "rerequested", "completed")
async def on_check_event(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    obj = delivery.payload.get(delivery.event) or {}
    app = (obj.get("app") or {}).get("slug")
    if app == ctx.settings.app_slug:
        return  # our own check run mirroring the task: not CI
    sha = obj.get("head_sha")
    if not sha or not delivery.repository:
        return
    suite = obj.get("check_suite") or obj
    prs = [int(p["number"]) for p in suite.get("pull_requests") or [] if "number" in p]
    task = await task_for_sha(ctx, delivery.repository_id, delivery.installation_id, sha, prs)
    if task is None:
        await ignore(
            ctx, delivery.delivery_id, f"no task has head {sha[:12]} (another PR or a stale commit)"
        )
        return
    repo = RepoAccess.open(
        ctx, delivery.installation_id, delivery.repository, delivery.repository_id
    )
    await on_checks(ctx, repo, task.id, sha, f"delivery:{delivery.delivery_id}")
