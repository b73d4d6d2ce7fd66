"""What each comment command does. Handlers parse and authorize; these act, through the
lifecycle table, so a command that does not fit a task's state is refused with the reason."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.commands import Command
from bot.core.lifecycle import TaskEvent, TaskState
from bot.git import remote as git_remote
from bot.jobs.schedule import enqueue_task_job, job_of_cause
from bot.plan.approvals import approve_text
from bot.plan.start import start_run
from bot.repo.access import RepoAccess
from bot.report.notes import drop_task_notes
from bot.report.publish import publish_run
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, Job, Task, utcnow
from bot.store.tasks import applied_by, apply_event, get_run, task_by_pr, tasks_of


class CommandFailed(Exception):
    """Refused, with a reason the commenter can act on."""


@dataclass(frozen=True)
class Target:
    issue: dict[str, Any]  # the issue the work belongs to (not the PR)
    run: IssueRun | None
    tasks: Sequence[Task]  # the tasks the command applies to
    on_pr: int | None = None

    def for_task(self, ordinal: int) -> Target:
        return replace(
            self, tasks=[t for t in self.tasks if t.ordinal == ordinal] or self.tasks[:0]
        )


async def find_target(
    ctx: HandlerContext, repo: RepoAccess, issue: dict[str, Any], task_no: int | None
) -> Target:
    """A comment on a task's PR targets that task; on the issue, task N or every task."""
    async with ctx.sessions() as session:
        on_pr = None
        # Issues and PRs share numbers, so a task's PR number alone says the comment is on
        # that PR, also when a payload lacks `issue.pull_request`.
        repo_id, installation_id = repo.repository_id, repo.installation_id
        task = await task_by_pr(session, repo_id, installation_id, issue["number"])
        if task is None and issue.get("pull_request"):
            raise CommandFailed(f"PR #{issue['number']} was not opened by Issuewright.")
        if task is not None:
            on_pr = issue["number"]
            run = await session.get(IssueRun, task.run_id)
            tasks: Sequence[Task] = [task]
            issue = {"number": task.issue_number}
        else:
            run = await get_run(session, repo_id, installation_id, issue["number"])
            tasks = await tasks_of(session, run.id) if run else []
    if task_no is not None:
        chosen = [t for t in tasks if t.ordinal == task_no]
        if not chosen:
            raise CommandFailed(
                f"there is no task {task_no} here; `/issuewright status` lists them."
            )
        tasks = chosen
    return Target(issue, run, tasks, on_pr)


async def _status(
    ctx: HandlerContext, repo: RepoAccess, target: Target, message: str | None = None
) -> None:
    if target.run is not None:
        await publish_run(
            ctx,
            repo.api,
            target.run.id,
            message=message,
        )


def _need_run(target: Target) -> IssueRun:
    if target.run is None or not target.tasks:
        raise CommandFailed(
            "Issuewright has no tasks on this issue yet; add the trigger label to start."
        )
    return target.run


async def do_status(
    ctx: HandlerContext,
    repo: RepoAccess,
    target: Target,
    _cmd: Command | None,
    _cause: str,
    _user: str,
) -> str:
    _need_run(target)
    await _status(ctx, repo, target)
    return "status refreshed"


async def do_plan(
    ctx: HandlerContext,
    repo: RepoAccess,
    target: Target,
    _cmd: Command | None,
    cause: str,
    user: str,
) -> str:
    issue = await repo.api.get_issue(repo.owner, repo.name, target.issue["number"])
    # The maintainer's command approves the text they saw when they wrote it: the comment's
    # payload carries it (a PR comment's names only the PR, so the issue is read then).
    seen = target.issue if target.on_pr is None and "body" in target.issue else {}
    payload = {
        "number": issue.number,
        "title": seen.get("title", issue.title),
        "body": seen.get("body", issue.body),
        "user": {"login": issue.user},
        "labels": [{"name": n} for n in issue.labels],
    }
    await start_run(repo, payload, user, plan_only=True, cause=cause)
    return "plan posted"


async def _rows(session: AsyncSession, target: Target) -> list[Task]:
    """The target's tasks as rows of `session`, to change them in its transaction."""
    rows = []
    for t in target.tasks:
        row = await session.get(Task, t.id)
        assert row is not None
        rows.append(row)
    return rows


async def do_retry(
    ctx: HandlerContext,
    repo: RepoAccess,
    target: Target,
    cmd: Command | None,
    cause: str,
    user: str,
) -> str:
    run = _need_run(target)
    # A maintainer's retry approves the issue text as it is now (edits since the label were
    # ignored until someone with write permission said so).
    approved_new = await _approve_current_text(repo, target, run, user)
    explicit = (cmd is not None and cmd.task is not None) or len(target.tasks) == 1
    retried, busy = [], []
    async with ctx.sessions() as session, session.begin():
        for task in await _rows(session, target):
            if await applied_by(session, task.id, TaskEvent.RETRY, cause):
                retried.append(task.ordinal)  # this command's job, run again after a kill
                continue
            if task.state in (TaskState.GENERATING, TaskState.FIXING):
                busy.append(task.ordinal)
                continue
            if not explicit and task.state not in {
                "failed",
                "cancelled",
                "closed",
                "budget_exceeded",
            }:
                continue
            fresh = task.push_blocked
            if await apply_event(session, task, TaskEvent.RETRY, cause):
                task.last_error = None
                await drop_task_notes(session, task)  # a fresh start: old trouble is history
                await enqueue_task_job(
                    session,
                    task,
                    "generate",
                    instructions=cmd.text if cmd else None,
                    fresh_branch=fresh,
                )
                retried.append(task.ordinal)
    if not retried and approved_new:
        await _status(ctx, repo, target)
        return "approved the edited issue text"
    if busy and not retried:
        raise CommandFailed(
            f"task {', '.join(map(str, busy))} is being worked on right now; "
            "retry when this attempt ends."
        )
    if not retried:
        raise CommandFailed(
            "no task can be retried now (only failed, cancelled, closed or over-budget "
            "tasks, or a task named with `task N`)."
        )
    ctx.wake.set()
    await _status(ctx, repo, target)
    return f"retrying task {', '.join(map(str, retried))}"


async def _approve_current_text(repo: RepoAccess, target: Target, run: IssueRun, user: str) -> bool:
    issue = target.issue
    if target.on_pr is not None or "body" not in issue or issue.get("pull_request"):
        found = await repo.api.get_issue(repo.owner, repo.name, run.issue_number)
        issue = {"title": found.title, "body": found.body}
    # The comment's payload carries the issue as it was when the command was written: an
    # edit slipped in between the comment and this job is not approved by it.
    return await approve_text(repo.ctx, run.id, issue.get("title"), issue.get("body"), user)


async def do_cancel(
    ctx: HandlerContext,
    repo: RepoAccess,
    target: Target,
    _cmd: Command | None,
    cause: str,
    _user: str,
) -> str:
    _need_run(target)
    cancelled = []
    async with ctx.sessions() as session, session.begin():
        for task in await _rows(session, target):
            if await applied_by(session, task.id, TaskEvent.CANCEL, cause):
                cancelled.append(task.ordinal)  # this command's job, run again after a kill
            elif await apply_event(session, task, TaskEvent.CANCEL, cause):
                cancelled.append(task.ordinal)
                await session.execute(
                    update(Job)
                    .where(Job.task_id == task.id, Job.status == "queued")
                    .values(status="cancelled", finished_at=utcnow())
                )
    if not cancelled:
        raise CommandFailed("nothing to cancel: no task here is waiting or being worked on.")
    await _status(ctx, repo, target)
    return f"cancelled task {', '.join(map(str, cancelled))}"


async def do_fix_ci(
    ctx: HandlerContext,
    repo: RepoAccess,
    target: Target,
    _cmd: Command | None,
    cause: str,
    _user: str,
) -> str:
    _need_run(target)
    queued = []
    async with ctx.sessions() as session, session.begin():
        for task in await _rows(session, target):
            if await job_of_cause(session, task.id, "ci_fix", cause):
                queued.append(task.ordinal)  # this command's job, run again after a kill
            elif task.pr_number and task.state in (TaskState.CHECKS_FAILED, TaskState.FAILED):
                if await enqueue_task_job(session, task, "ci_fix", cause=cause):
                    queued.append(task.ordinal)
    if not queued:
        raise CommandFailed("no task here has a PR with failing checks.")
    ctx.wake.set()
    return f"CI fix queued for task {', '.join(map(str, queued))}"


async def do_rollback(
    ctx: HandlerContext,
    repo: RepoAccess,
    target: Target,
    _cmd: Command | None,
    cause: str,
    _user: str,
) -> str:
    _need_run(target)
    rolled = []
    for task in target.tasks:
        if task.state == TaskState.MERGED or not (task.pr_number or task.branch):
            continue
        if task.pr_number:
            await repo.api.close_pull(repo.owner, repo.name, task.pr_number)
        if task.branch:
            await asyncio.to_thread(
                git_remote.delete_remote_branch,
                repo.repo_ref(),
                task.branch,
                token=await repo.git_token(),
            )
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task.id)
            assert row is not None
            await apply_event(session, row, TaskEvent.ROLLED_BACK, cause)
        rolled.append(task.ordinal)
    if not rolled:
        raise CommandFailed("nothing to roll back: no unmerged task here has a PR or branch.")
    await _status(ctx, repo, target)
    return f"rolled back task {', '.join(map(str, rolled))}"


Action = Callable[[HandlerContext, RepoAccess, Target, Command | None, str, str], Awaitable[str]]
ACTIONS: dict[str, Action] = {
    "status": do_status,
    "plan": do_plan,
    "retry": do_retry,
    "cancel": do_cancel,
    "fix-ci": do_fix_ci,
    "rollback": do_rollback,
}
