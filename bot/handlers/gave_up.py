"""The `task_gave_up` job: a task whose generate, CI-fix or review job was dead-lettered
(`store.queue.give_up_task` failed it) says why where people look — the status table, a note
with the whole reason and what to do, and the task's check run."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.publish import publishable
from bot.jobs.dispatch import Router
from bot.repo.access import RepoAccess
from bot.report.notes import task_note
from bot.report.publish import publish_task
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, Job, Task
from bot.store.queue import GAVE_UP_JOB

log = logging.getLogger(__name__)
router = Router()

WHAT = {"generate": "the attempt", "ci_fix": "the CI-fix attempt", "review": "the review attempt"}


def gave_up_message(kind: str, tries: int, error: str | None) -> str:
    """One line: what stopped, after how many tries, the last error, and what to do."""
    last = (error or "").strip().splitlines()[-1:] or ["no error was recorded"]
    what = WHAT.get(kind, f"the {kind} job")
    tried = f"{tries} tr{'y' if tries == 1 else 'ies'}"
    why = last[0][:300]
    return f"{what} gave up after {tried} ({why}). Comment `/issuewright retry` to try again."


@router.job(GAVE_UP_JOB)
async def show_gave_up(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    task_id, dead_id = int(payload["task_id"]), int(payload["job_id"])
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        dead = await session.get(Job, dead_id)
        run = await session.get(IssueRun, task.run_id) if task else None
        if task is None or run is None or task.state != "failed":
            return  # retried (or removed) meanwhile: the news is stale
        message = gave_up_message(
            dead.kind if dead else "generate",
            dead.attempts if dead else 0,
            dead.last_error if dead else None,
        )
        # A stored row and a published text: no secret, whatever the error quoted.
        task.last_error = publishable(message, ctx.settings.secrets())
    log.warning("task %s: %s", task.key, message)
    await task_note(ctx, run.id, task.ordinal, message)
    repo = RepoAccess.open(ctx, run.installation_id, task.repository, run.repository_id)
    await repo.meta()  # never shown in a repository that took the name since
    await publish_task(ctx, repo, task_id)
