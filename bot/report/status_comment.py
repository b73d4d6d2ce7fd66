"""The issue's one status comment: found again by its stored id or hidden marker, edited in
place, never duplicated (also when a job runs twice)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.render import LIVE_STATES, STATUS_MARKER, StatusView, TaskView, render_status
from bot.github import GitHubAPI, GitHubError
from bot.report.task_notice import latest_attempts, notice_of
from bot.runtime import HandlerContext
from bot.store.db import SessionFactory
from bot.store.models import Attempt, IssueRun, Task, aware, utcnow
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
    *,
    marker: str = STATUS_MARKER,
) -> int:
    """Edit the comment we made before (by id, else by its hidden `marker`), or make one.
    Returns its id."""
    if comment_id is not None:
        try:
            await api.edit_comment(owner, repo, comment_id, body)
            return comment_id
        except GitHubError as exc:
            if exc.status != 404:  # deleted by someone: make a new one
                raise
    existing = await api.find_comment(owner, repo, number, marker, author=bot_login)
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
    public_url: str | None = None,
    live: Mapping[int, tuple[int, float]] | None = None,
) -> int | None:
    """Render the run's status and write it to GitHub. `plan` (per ordinal: files, template,
    estimates) switches to the plan table, with `plan_notes` saying why the issue was split
    that way. `live` (per ordinal: output tokens so far, seconds) is the progress of an
    answer arriving. A failed task's row and notice come from `core.failure_notice`, its
    attempt page under `public_url`. Returns the comment id, or None when skipped."""
    async with sessions() as session:
        run = await session.get(IssueRun, run_id)
        if run is None:
            return None
        last = aware(run.status_rendered_at)
        if not force and last is not None and utcnow() - last < MIN_EDIT_INTERVAL:
            return run.status_comment_id
        tasks: Sequence[Task] = await tasks_of(session, run.id)
        attempts = await latest_attempts(session, [t.id for t in tasks]) if plan is None else {}
        # Any edit shows an answer arriving as last stored; the reporter's edit, its newest.
        live = {**await _stored_progress(session, tasks, attempts), **(live or {})}
        # A plan preview shows the issue as it is now: tasks taken out of it are not listed.
        views = [
            task_view(
                t,
                web_url,
                {
                    **(plan or {}).get(t.ordinal, {}),
                    **_live(t, attempts.get(t.id), public_url, live.get(t.ordinal)),
                },
            )
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


async def _stored_progress(
    session: AsyncSession, tasks: Sequence[Task], attempts: Mapping[int, int]
) -> dict[int, tuple[int, float]]:
    """Ordinal → (tokens so far, seconds) of each running attempt that stored progress
    (`attempts.streamed_tokens`, as the dashboard reads it)."""
    found: dict[int, tuple[int, float]] = {}
    for task in tasks:
        attempt_id = attempts.get(task.id)
        if task.state not in LIVE_STATES or attempt_id is None:
            continue
        attempt = await session.get(Attempt, attempt_id)
        if attempt is None or attempt.finished_at is not None or not attempt.streamed_tokens:
            continue
        started, at = aware(attempt.started_at), aware(attempt.progress_at)
        if started is not None and at is not None:
            found[task.ordinal] = (attempt.streamed_tokens, (at - started).total_seconds())
    return found


def _live(
    task: Task,
    attempt_id: int | None,
    public_url: str | None,
    progress: tuple[int, float] | None,
) -> dict[str, object]:
    """What a row shows of where the task stands now: its failure, or the answer arriving."""
    values: dict[str, object] = {"notice": notice_of(task, attempt_id, public_url)}
    if progress is not None:
        values["streamed_tokens"], values["elapsed_seconds"] = progress
    return values


async def show(ctx: HandlerContext, api: GitHubAPI, run_id: int, **options: Any) -> int | None:
    """`refresh_status` with this process's GitHub web URL, bot login and public URL."""
    options.setdefault("public_url", ctx.settings.public_url)
    return await refresh_status(
        ctx.sessions,
        api,
        run_id,
        web_url=ctx.settings.github_web_url,
        bot_login=ctx.github.bot_login if ctx.github is not None else None,
        **options,
    )
