"""The one comment on a task's pull request that says its failure, in the same words as the
status comment and the check run (core.failure_notice): posted once, edited in place as the
failure changes, edited to "over" once the task moves on. Found again by its stored id
(an event row) or its hidden marker, so a job that runs twice never posts it twice."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import select

from bot.core.failure_notice import FailureNotice
from bot.core.render import STATE_LABELS, notice_markdown
from bot.github import GitHubError
from bot.repo.access import RepoAccess
from bot.report.status_comment import upsert_comment
from bot.report.task_notice import task_notice
from bot.runtime import HandlerContext
from bot.store.models import Event, Task
from bot.store.tasks import save_stage

log = logging.getLogger(__name__)
PR_NOTICE_MARKER = "<!-- issuewright:task-failure -->"
SHOWN_STAGE = "failure_shown_on_pr"


def render_pr_notice(task: Task, notice: FailureNotice | None) -> str:
    head = f"### 🤖 Issuewright: task {task.ordinal} of #{task.issue_number}"
    if notice is None:
        state = STATE_LABELS.get(task.state, task.state)
        text = f"The failure shown here before is over: the task is now {state}."
    else:
        text = f"**{notice.headline}**: {notice_markdown(notice)}"
    return f"{head}\n\n{text}\n\n{PR_NOTICE_MARKER}\n"


async def _last_shown(ctx: HandlerContext, task_id: int) -> dict[str, Any] | None:
    async with ctx.sessions() as session:
        found = await session.execute(
            select(Event.data)
            .where(Event.task_id == task_id, Event.stage == SHOWN_STAGE)
            .order_by(Event.id.desc())
            .limit(1)
        )
        data = found.scalars().first()
    return dict(data) if data else None


async def show_on_pull(ctx: HandlerContext, repo: RepoAccess, task: Task) -> None:
    """The task's failure on its PR, the same words as the status comment and check run.
    Never fails the caller: the status comment already says it."""
    if not task.pr_number:
        return
    notice = await task_notice(ctx, task)
    last = await _last_shown(ctx, task.id)
    here = last if last and last.get("pr") == task.pr_number else None
    if notice is None and (here is None or here.get("resolved")):
        return  # nothing failed here, or its end was already said
    body = render_pr_notice(task, notice)
    digest = hashlib.sha256(body.encode()).hexdigest()
    if here and here.get("sha") == digest:
        return
    bot = ctx.github.bot_login if ctx.github is not None else None
    try:
        comment_id = await upsert_comment(
            repo.api,
            repo.owner,
            repo.name,
            task.pr_number,
            here.get("comment_id") if here else None,
            body,
            bot,
            marker=PR_NOTICE_MARKER,
        )
    except GitHubError as exc:
        log.warning("could not show task %s's failure on its PR: %s", task.key, exc)
        return
    data = {"pr": task.pr_number, "comment_id": comment_id, "sha": digest}
    await save_stage(
        ctx.sessions,
        SHOWN_STAGE,
        f"#{task.pr_number}",
        task_id=task.id,
        data={**data, "resolved": notice is None},
    )
