"""A job run again after it died mid-attempt (killed, timed out, lease lost).

The attempt the dead run started is closed as `interrupted` (not left `running` for ever on
the dashboard and in `stats`), and an answer it already got is used again instead of asking,
and paying, the model twice: the same prompt gets the same edits. A refused, cut or scrubbed
answer is not reused (`core.attempt_record.reusable_answer`); the model is asked then."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.attempt_record import reusable_answer
from bot.runtime import HandlerContext
from bot.store.models import Attempt, AttemptRecord, utcnow

INTERRUPTED = "interrupted"
WHY = "its job stopped before the attempt ended (killed, timed out or lease lost) and ran again"


async def take_over(
    ctx: HandlerContext, task_id: int, kind: str, prompt_hash: str | None
) -> tuple[int, str] | None:
    """Close the task's attempts still marked running; (attempt id, answer) of the newest one
    of this kind and prompt whose answer can be used again, else None."""
    reuse: tuple[int, str] | None = None
    async with ctx.sessions() as session, session.begin():
        found = await session.execute(
            select(Attempt)
            .where(Attempt.task_id == task_id, Attempt.outcome == "running")
            .order_by(Attempt.id)
        )
        for attempt in found.scalars():
            attempt.outcome, attempt.error, attempt.finished_at = INTERRUPTED, WHY, utcnow()
            if attempt.kind != kind or attempt.prompt_hash != prompt_hash:
                continue
            record = await session.get(AttemptRecord, attempt.id)
            answer = reusable_answer(record.answer, record.outcome) if record else None
            if answer is not None:
                reuse = (attempt.id, answer)
    return reuse
