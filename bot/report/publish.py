"""What people see on GitHub, from one place: every stage calls `publish_run` (the issue's
status comment) or `publish_task` (the status comment and the task's check run) instead of
writing either itself. Notes are bot/report/notes.py; the PR body is rendered in core/render."""

from __future__ import annotations

from bot.repo.access import RepoAccess
from bot.report.check_run import mirror_task
from bot.report.pr_notice import show_on_pull
from bot.report.status_comment import show
from bot.runtime import HandlerContext
from bot.store.models import Task

# The status comment, edited in place (created once, found again by id or marker).
publish_run = show


async def publish_task(
    ctx: HandlerContext, repo: RepoAccess, task_id: int, message: str | None = None
) -> None:
    """What people see after a change to one task: the status comment, its check run and,
    when it has a PR, its failure (or the end of it) on the PR."""
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
    if task is None:
        return
    await show(
        ctx,
        repo.api,
        task.run_id,
        message=message,
    )
    await mirror_task(repo, task)
    await show_on_pull(ctx, repo, task)
