"""Records every handled delivery as an event row, so `status` and debugging can see it."""

from __future__ import annotations

from bot.jobs.dispatch import DeliveryEvent, Router
from bot.runtime import HandlerContext
from bot.store.models import Event

router = Router()

HANDLED: dict[str, tuple[str, ...]] = {
    "issues": ("opened", "labeled", "unlabeled", "edited", "closed", "reopened"),
    "issue_comment": ("created", "edited"),
    "pull_request": ("opened", "closed", "reopened", "synchronize"),
    "pull_request_review": ("submitted",),
    "pull_request_review_comment": ("created",),
    "check_suite": ("requested", "rerequested", "completed"),
    "check_run": ("created", "completed", "rerequested"),
    "installation": ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"),
    "installation_repositories": ("added", "removed"),
}


async def record_delivery(ctx: HandlerContext, delivery: DeliveryEvent) -> None:
    async with ctx.sessions() as session, session.begin():
        session.add(
            Event(
                delivery_id=delivery.delivery_id,
                stage="received",
                message=f"{delivery.event}.{delivery.action}",
                data={
                    "repository": delivery.repository,
                    "installation_id": delivery.installation_id,
                },
            )
        )


for _event, _actions in HANDLED.items():
    router.on(_event, *_actions)(record_delivery)
