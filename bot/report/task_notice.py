"""A task's failure notice (core.failure_notice) read from its rows: the task, its newest
attempt (the page a refused answer links to) and the server's PUBLIC_URL."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.failure_notice import FailureFacts, FailureNotice, failure_notice
from bot.runtime import HandlerContext
from bot.store.models import Attempt, Task


async def latest_attempts(session: AsyncSession, task_ids: Iterable[int]) -> dict[int, int]:
    """Task id → its newest attempt's id (the attempt page a notice links to)."""
    ids = list(task_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Attempt.task_id, func.max(Attempt.id))
        .where(Attempt.task_id.in_(ids))
        .group_by(Attempt.task_id)
    )
    return {int(task_id): int(attempt_id) for task_id, attempt_id in rows.all()}


def notice_of(task: Task, attempt_id: int | None, public_url: str | None) -> FailureNotice | None:
    return failure_notice(
        FailureFacts(
            ordinal=task.ordinal,
            state=task.state,
            last_error=task.last_error,
            pr_number=task.pr_number,
            push_blocked=task.push_blocked,
            attempt_id=attempt_id,
            public_url=public_url,
        )
    )


async def task_notice(ctx: HandlerContext, task: Task) -> FailureNotice | None:
    async with ctx.sessions() as session:
        attempt = (await latest_attempts(session, [task.id])).get(task.id)
    return notice_of(task, attempt, ctx.settings.public_url)
