"""An attempt's rows: started with what was asked, finished with its outcome, and the task's
state moved with its cause."""

from __future__ import annotations

from typing import Any

from bot.core.lifecycle import TaskEvent
from bot.core.policy import LLMChoice
from bot.core.publish import publishable
from bot.runtime import HandlerContext
from bot.store.models import Attempt, Task, utcnow
from bot.store.tasks import apply_event, record_stage


async def start_attempt(
    ctx: HandlerContext,
    task_id: int,
    kind: str,
    job_id: int,
    rendered: Any,
    choice: LLMChoice,
    installation_id: int | None,
) -> int:
    async with ctx.sessions() as session, session.begin():
        attempt = Attempt(
            task_id=task_id,
            installation_id=installation_id,
            kind=kind,
            template_id=rendered.template_id,
            template_version=rendered.version,
            prompt_hash=rendered.sha256,
            provider=choice.provider,
            model=choice.model,
        )
        session.add(attempt)
        task = await session.get(Task, task_id)
        if task is not None:
            task.attempts += 1
        await session.flush()
        await record_stage(
            session,
            "prompt_rendered",
            f"{rendered.template_id} v{rendered.version}",
            task_id=task_id,
            job_id=job_id,
            data={"prompt_sha256": rendered.sha256},
        )
        return attempt.id


async def finish_attempt(
    ctx: HandlerContext, attempt_id: int, outcome: str, error: str | None = None
) -> None:
    async with ctx.sessions() as session, session.begin():
        attempt = await session.get(Attempt, attempt_id)
        if attempt is not None:
            # A stored row: no secret, no credential in a URL, whatever the error quoted.
            stored = publishable(error, ctx.settings.secrets()) if error else error
            attempt.outcome, attempt.error, attempt.finished_at = outcome, stored, utcnow()


async def end_task(
    ctx: HandlerContext, task_id: int, event: TaskEvent, cause: str, message: str | None
) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        if task is None:
            return
        if message is not None:
            task.last_error = publishable(message, ctx.settings.secrets())  # a stored row
        await apply_event(session, task, event, cause, reason=message)
        await record_stage(
            session,
            "failed" if event != TaskEvent.CANCEL else "cancelled",
            message or "",
            task_id=task_id,
        )
