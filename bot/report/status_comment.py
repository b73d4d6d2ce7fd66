"""The issue's one status comment: found again by its stored id or hidden marker, edited in
place, never duplicated (also when a job runs twice)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from bot.core.render import STATUS_MARKER, StatusView, TaskView, render_status
from bot.github import GitHubAPI, GitHubError
from bot.runtime import HandlerContext
from bot.store.db import SessionFactory
from bot.store.models import IssueRun, Task, aware, utcnow
from bot.store.tasks import tasks_of

log = logging.getLogger(__name__)

# Progress updates (not state changes) edit the comment at most this often.
MIN_EDIT_INTERVAL = timedelta(seconds=5)


def task_view(task: Task, web_url: str, extra: Mapping[str, object] | None = None) -> TaskView:
    pr_url = f"{web_url}/{task.repository}/pull/{task.pr_number}" if task.pr_number else None
    note = "paused: someone else pushed to the branch" if task.push_blocked else None
    values: dict[str, object] = {
        "ordinal": task.ordinal,
        "title": task.title,
        "task_type": task.task_type,
        "state": task.state,
        "depends_on": tuple(task.depends_on or ()),
        "pr_url": pr_url,
        "pr_number": task.pr_number,
        "checks": task.checks,
        "attempts": task.attempts,
        "input_tokens": task.input_tokens,
        "output_tokens": task.output_tokens,
        "cost_usd": task.cost_usd,
        "last_error": task.last_error,
        "files": tuple(task.files or ()),
        "note": note,
    }
    values.update(extra or {})
    return TaskView(**values)  # type: ignore[arg-type]


async def upsert_comment(
    api: GitHubAPI,
    owner: str,
    repo: str,
    number: int,
    comment_id: int | None,
    body: str,
    bot_login: str | None,
) -> int:
    """Edit the comment we made before, or make one. Returns its id."""
    if comment_id is not None:
        try:
            await api.edit_comment(owner, repo, comment_id, body)
            return comment_id
        except GitHubError as exc:
            if exc.status != 404:  # deleted by someone: make a new one
                raise
    existing = await api.find_comment(owner, repo, number, STATUS_MARKER, author=bot_login)
    if existing is not None:
        await api.edit_comment(owner, repo, existing.id, body)
        return existing.id
    return (await api.create_comment(owner, repo, number, body)).id


async def refresh_status(
    sessions: SessionFactory,
    api: GitHubAPI,
    run_id: int,
    *,
    web_url: str,
    bot_login: str | None,
    plan: Mapping[int, Mapping[str, object]] | None = None,
    message: str | None = None,
    plan_reason: str | None = None,
    model: str | None = None,
    plan_notes: Sequence[str] = (),
    force: bool = True,
) -> int | None:
    """Render the run's status and write it to GitHub. `plan` (per ordinal: files, template,
    estimates) switches to the plan table, with `plan_notes` saying why the issue was split
    that way. Returns the comment id, or None when skipped."""
    async with sessions() as session:
        run = await session.get(IssueRun, run_id)
        if run is None:
            return None
        last = aware(run.status_rendered_at)
        if not force and last is not None and utcnow() - last < MIN_EDIT_INTERVAL:
            return run.status_comment_id
        tasks: Sequence[Task] = await tasks_of(session, run.id)
        # A plan preview shows the issue as it is now: tasks taken out of it are not listed.
        views = [
            task_view(t, web_url, (plan or {}).get(t.ordinal))
            for t in tasks
            if plan is None or t.ordinal in plan
        ]
        view = StatusView(
            tasks=views,
            plan_only=plan is not None,
            plan_reason=plan_reason,
            notes=tuple(run.notes or ()),
            model=model,
            message=message,
            plan_notes=tuple(plan_notes) if plan is not None else (),
        )
        owner, repo = run.repository.split("/", 1)
        number, comment_id = run.issue_number, run.status_comment_id
    body = render_status(view)
    new_id = await upsert_comment(api, owner, repo, number, comment_id, body, bot_login)
    async with sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is not None:
            run.status_comment_id = new_id
            run.status_rendered_at = utcnow()
    return new_id


async def show(ctx: HandlerContext, api: GitHubAPI, run_id: int, **options: Any) -> int | None:
    """`refresh_status` with this process's GitHub web URL and bot login."""
    return await refresh_status(
        ctx.sessions,
        api,
        run_id,
        web_url=ctx.settings.github_web_url,
        bot_login=ctx.github.bot_login if ctx.github is not None else None,
        **options,
    )
