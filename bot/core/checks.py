"""CI's check runs on a task's commit, and the app's own check run that mirrors the task (pure).

Typed by small Protocols, so any object with the fields (GitHub's CheckRun, a Task row, a
test's dataclass) can be summarised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from bot.core.failure_notice import FailureNotice
from bot.core.publish import neutralize, neutralize_line, without_urls
from bot.core.render import STATE_LABELS, notice_markdown


class CheckRunLike(Protocol):
    """What a check run needs to be summarised (github.CheckRun has these)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def app_slug(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def conclusion(self) -> str | None: ...


class MirroredTask(Protocol):
    """What the app's check run shows of a task (store.models.Task has these)."""

    @property
    def head_sha(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def ordinal(self) -> int: ...
    @property
    def issue_number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def checks(self) -> str | None: ...


Run = TypeVar("Run", bound=CheckRunLike)

FAILED_CONCLUSIONS = {
    "failure",
    "timed_out",
    "cancelled",
    "action_required",
    "startup_failure",
    "stale",
}


def summarize_checks(runs: Sequence[CheckRunLike]) -> tuple[str, str]:
    """("running" | "passed" | "failed", a short text for the status table)."""
    if not runs:
        return "running", "🔄 waiting"
    done = [r for r in runs if r.status == "completed"]
    failed = [r for r in done if (r.conclusion or "") in FAILED_CONCLUSIONS]
    if failed:
        return "failed", f"❌ {len(failed)}/{len(runs)} failed"
    if len(done) < len(runs):
        return "running", f"🔄 {len(done)}/{len(runs)}"
    return "passed", f"✅ {len(runs)}/{len(runs)}"


def latest_runs(runs: Sequence[Run], own_slug: str) -> list[Run]:
    """CI's check runs, the newest per (app, name): a re-run that passed replaces the run
    that failed (GitHub's `filter=latest` does the same; not every list is filtered so)."""
    newest: dict[tuple[str, str], Run] = {}
    for run in runs:
        key = (run.app_slug, run.name)
        if run.app_slug != own_slug and (key not in newest or run.id > newest[key].id):
            newest[key] = run
    return sorted(newest.values(), key=lambda r: r.id)


# state → (status, conclusion). The run sits on one commit, so it says what became of the
# task *on that commit*: a commit whose checks failed is a failure even when a fix attempt
# follows (the fix is a new commit, which gets its own run). Until CI reports on the commit
# (`pr_open`) the run is neutral, not pending: a repository without CI, or with CI that never
# starts, must not show the app's check as running forever. Once CI reports, it follows CI.
_MIRROR: dict[str, tuple[str, str | None]] = {
    "pr_open": ("completed", "neutral"),
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


WAITING_FOR_CI = "⏳ PR open, no CI has reported yet"


def mirror_fields(task: MirroredTask, notice: FailureNotice | None = None) -> dict[str, Any] | None:
    """The check run's status, conclusion and output for the task, or None (no mirror).
    `notice` is the task's failure (core.failure_notice), said as everywhere else."""
    if not task.head_sha or task.state not in _MIRROR:
        return None
    status, conclusion = _MIRROR[task.state]
    # Title, error and check names are third-party text: inert, and errors without URLs.
    summary = f"Task {task.ordinal} of #{task.issue_number}: {neutralize_line(task.title, 200)}"
    if notice is not None:
        summary += f"\n\n{notice_markdown(notice)}"
    elif task.state in _ERROR_STATES and task.last_error:
        summary += f"\n\n{neutralize(without_urls(task.last_error))}"
    if task.checks:
        summary += f"\n\nChecks: {neutralize(task.checks)}"
    title = WAITING_FOR_CI if task.state == "pr_open" else STATE_LABELS.get(task.state, task.state)
    fields: dict[str, Any] = {
        "status": status,
        "output": {"title": title, "summary": summary[:2000]},
    }
    if conclusion:
        fields["conclusion"] = conclusion
    return fields
