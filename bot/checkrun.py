"""The `issuewright` check run on each PR head, mirroring the task's state."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.render import STATE_LABELS
from bot.github import GitHubError
from bot.repo_access import RepoAccess
from bot.store.models import Task

log = logging.getLogger(__name__)
NAME = "issuewright"

# state → (status, conclusion)
_MIRROR: dict[str, tuple[str, str | None]] = {
    "pr_open": ("in_progress", None),
    "checks_running": ("in_progress", None),
    "fixing": ("in_progress", None),
    "checks_failed": ("in_progress", None),  # a fix attempt may follow
    "checks_passed": ("completed", "success"),
    "merged": ("completed", "success"),
    "failed": ("completed", "failure"),
    "budget_exceeded": ("completed", "failure"),
    "cancelled": ("completed", "cancelled"),
    "closed": ("completed", "neutral"),
}


async def mirror_task(repo: RepoAccess, task: Task) -> None:
    """Create or update the check run on the task's head. Never fails the caller: it is a
    mirror of what the status comment already says."""
    if not task.head_sha or task.state not in _MIRROR:
        return
    status, conclusion = _MIRROR[task.state]
    fields: dict[str, Any] = {
        "status": status,
        "output": {
            "title": STATE_LABELS.get(task.state, task.state),
            "summary": (
                task.last_error or f"Task {task.ordinal} of #{task.issue_number}: {task.title}"
            )[:1000],
        },
    }
    if conclusion:
        fields["conclusion"] = conclusion
    try:
        runs = await repo.api.list_check_runs(repo.owner, repo.name, task.head_sha, check_name=NAME)
        ours = [r for r in runs if r.app_slug == repo.ctx.settings.app_slug]
        if ours:
            await repo.api.update_check_run(repo.owner, repo.name, ours[0].id, **fields)
        else:
            status_arg = fields.pop("status")
            await repo.api.create_check_run(
                repo.owner,
                repo.name,
                name=NAME,
                head_sha=task.head_sha,
                status=status_arg,
                **fields,
            )
    except GitHubError as exc:
        log.warning("could not mirror task %s to its check run: %s", task.key, exc)
