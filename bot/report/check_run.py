"""The `issuewright` check run on each PR head, mirroring the task's state."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.publish import neutralize, neutralize_line, without_urls
from bot.core.render import STATE_LABELS
from bot.github import GitHubError
from bot.repo.access import RepoAccess
from bot.store.models import Task

log = logging.getLogger(__name__)
NAME = "issuewright"

# state → (status, conclusion). The run sits on one commit, so it says what became of the
# task *on that commit*: a commit whose checks failed is a failure even when a fix attempt
# follows (the fix is a new commit, which gets its own run).
_MIRROR: dict[str, tuple[str, str | None]] = {
    "pr_open": ("in_progress", None),
    "checks_running": ("in_progress", None),
    "fixing": ("in_progress", None),
    "checks_failed": ("completed", "failure"),
    "checks_passed": ("completed", "success"),
    "merged": ("completed", "success"),
    "failed": ("completed", "failure"),
    "budget_exceeded": ("completed", "failure"),
    "cancelled": ("completed", "cancelled"),
    "closed": ("completed", "neutral"),
}
# Only in these states is the task's last error about where it stands now; elsewhere it is
# history, and a task that is doing fine must not show an error.
_ERROR_STATES = {"checks_failed", "failed", "budget_exceeded", "cancelled", "closed"}


def mirror_fields(task: Task) -> dict[str, Any] | None:
    """The check run's status, conclusion and output for the task, or None (no mirror)."""
    if not task.head_sha or task.state not in _MIRROR:
        return None
    status, conclusion = _MIRROR[task.state]
    # Title, error and check names are third-party text: inert, and errors without URLs.
    summary = f"Task {task.ordinal} of #{task.issue_number}: {neutralize_line(task.title, 200)}"
    if task.state in _ERROR_STATES and task.last_error:
        summary += f"\n\n{neutralize(without_urls(task.last_error))}"
    if task.checks:
        summary += f"\n\nChecks: {neutralize(task.checks)}"
    fields: dict[str, Any] = {
        "status": status,
        "output": {"title": STATE_LABELS.get(task.state, task.state), "summary": summary[:1000]},
    }
    if conclusion:
        fields["conclusion"] = conclusion
    return fields


async def mirror_task(repo: RepoAccess, task: Task) -> None:
    """Create or update the check run on the task's head. Never fails the caller: it is a
    mirror of what the status comment already says."""
    fields = mirror_fields(task)
    if fields is None:
        return
    assert task.head_sha is not None
    try:
        runs = await repo.api.list_check_runs(repo.owner, repo.name, task.head_sha, check_name=NAME)
        ours = [r for r in runs if r.app_slug == repo.ctx.settings.app_slug]
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
