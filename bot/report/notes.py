"""Notes on an issue's status comment: short news about the run or one task, stored on the run
and shown until the task moves on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.publish import publishable
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, Task


async def note(ctx: HandlerContext, run_id: int, text: str) -> None:
    async with ctx.sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is not None and text not in (run.notes or []):
            run.notes = [*(run.notes or []), text]


async def task_note(ctx: HandlerContext, run_id: int, ordinal: int, text: str | None) -> None:
    """The run's one note about a task ("Task N: …"), replacing the previous one; None
    removes it. The status table shows only the start of an error, the notes up to 300
    characters: the whole reason and what to do. A stale "waiting" or "failed" note would
    contradict the table, so each new state of the task replaces it."""
    prefix = f"Task {ordinal}: "
    text = publishable(text, ctx.settings.secrets()) if text else text  # a stored row
    async with ctx.sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is None:
            return
        kept = [n for n in run.notes or [] if not n.startswith(prefix)]
        run.notes = [*kept, prefix + text] if text else kept


async def drop_task_notes(session: AsyncSession, task: Task) -> None:
    """Notes about a task ("ci also fails on main", "review feedback was not applied") are
    news only until the task moves on (an attempt pushed, a merge, a retry); a task that is
    doing fine must not keep showing them."""
    run = await session.get(IssueRun, task.run_id)
    if run is not None and run.notes:
        prefix = f"Task {task.ordinal}:"
        run.notes = [n for n in run.notes if not str(n).startswith(prefix)]
