"""The `issuewright` check run on each PR head, mirroring the task's state: neutral while no
CI has reported on the commit, then following CI (core.checks.mirror_fields); a failure is
said with the task's notice (core.failure_notice), as on the status comment."""

from __future__ import annotations

import logging

from bot.core.checks import mirror_fields
from bot.github import GitHubError
from bot.repo.access import RepoAccess
from bot.report.task_notice import task_notice
from bot.store.models import Task

log = logging.getLogger(__name__)
NAME = "issuewright"


async def mirror_task(repo: RepoAccess, task: Task) -> None:
    """Create or update the check run on the task's head. Never fails the caller: it is a
    mirror of what the status comment already says."""
    fields = mirror_fields(task, await task_notice(repo.ctx, task))
    if fields is None:
        return
    assert task.head_sha is not None
    try:
        runs = await repo.api.list_check_runs(repo.owner, repo.name, task.head_sha, check_name=NAME)
        # The newest first: a run made after a completed one is the one GitHub shows.
        ours = sorted(
            (r for r in runs if r.app_slug == repo.ctx.settings.app_slug), key=lambda r: -r.id
        )
        # A completed run is not reopened: GitHub shows the newest run of a name, so an
        # attempt that starts again on the same commit gets a run of its own.
        if ours and (ours[0].status != "completed" or fields["status"] == "completed"):
            await repo.api.update_check_run(repo.owner, repo.name, ours[0].id, **fields)
            return
        status = fields.pop("status")
        await repo.api.create_check_run(
            repo.owner, repo.name, name=NAME, head_sha=task.head_sha, status=status, **fields
        )
    except GitHubError as exc:
        log.warning("could not mirror task %s to its check run: %s", task.key, exc)
