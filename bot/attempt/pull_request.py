"""Pull requests for tasks: found by head branch before one is created, so a re-run never
makes a second PR. File line counts come from the diff itself, never from the model."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.core.publish import neutralize_line
from bot.core.render import PullRequestView, render_pr_body
from bot.git import cmd as git_cmd
from bot.github import GitHubError, PullRequest
from bot.repo.access import RepoAccess
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.store.models import IssueRun, Task, utcnow

log = logging.getLogger(__name__)
OPEN_PR_STATES = ("pr_open", "checks_running", "checks_passed", "checks_failed", "fixing")
PR_LABEL = "issuewright-pr"


def diff_numstat(worktree: Path, base_sha: str) -> list[tuple[str, int, int]]:
    out = git_cmd.git("diff", "--numstat", "-M", f"{base_sha}..HEAD", cwd=worktree).stdout
    files = []
    for line in out.splitlines():
        added, removed, path = line.split("\t", 2)
        files.append(
            (path, int(added) if added.isdigit() else 0, int(removed) if removed.isdigit() else 0)
        )
    return files


async def throttle_reason(
    ctx: HandlerContext, repository_id: int | None, config: RepoConfig
) -> str | None:
    """Why a new PR must wait (too many open, or too many this hour), or None. Counted by
    GitHub's repository id: a later owner of the same name does not share the old limits."""
    async with ctx.sessions() as session:
        # A task generating now will open a PR too: with several workers, counting only open
        # PRs would let each of them pass the limit at the same moment.
        open_prs = (
            await session.execute(
                select(func.count(Task.id)).where(
                    Task.repository_id == repository_id,
                    Task.state.in_((*OPEN_PR_STATES, "generating")),
                )
            )
        ).scalar_one()
        recent = (
            await session.execute(
                select(func.count(Task.id)).where(
                    Task.repository_id == repository_id,
                    Task.pr_opened_at >= utcnow() - timedelta(hours=1),
                )
            )
        ).scalar_one()
    if open_prs >= config.max_open_prs:
        limit = config.max_open_prs
        return (
            f"waiting: {open_prs} PR(s) by the app are open or being made "
            f"(limit `max_open_prs` = {limit})"
        )
    if recent >= config.max_new_prs_per_hour:
        return (
            f"waiting: {recent} PRs opened in the last hour "
            f"(limit `max_new_prs_per_hour` = {config.max_new_prs_per_hour})"
        )
    return None


async def is_last_task(ctx: HandlerContext, task: Task) -> bool:
    async with ctx.sessions() as session:
        highest = (
            await session.execute(select(func.max(Task.ordinal)).where(Task.run_id == task.run_id))
        ).scalar()
    return task.ordinal == highest


async def open_pull(
    ctx: HandlerContext,
    repo: RepoAccess,
    task: Task,
    run: IssueRun,
    config: RepoConfig,
    *,
    branch: str,
    base: str,
    worktree: Path,
    base_sha: str,
    summary: str,
    model: str,
    template: tuple[str, int],
    tokens: tuple[int, int],
    cost: float,
) -> PullRequest:
    existing = await repo.api.find_open_pull(repo.owner, repo.name, branch)
    files = await asyncio.to_thread(diff_numstat, worktree, base_sha)
    body = render_pr_body(
        PullRequestView(
            task_title=task.title,
            task_body=task.body,
            issue_number=task.issue_number,
            summary=summary,
            files=files,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cost_usd=cost,
            model=model,
            template_id=template[0],
            template_version=template[1],
            task_key=task.key,
            closes_issue=await is_last_task(ctx, task),
            criteria=list(task.criteria or []),
        )
    )
    # The title is the issue author's text: inert, so it mentions and references nothing.
    title = f"{neutralize_line(task.title, 200)} (#{task.issue_number})"
    if existing is not None:
        await repo.api.update_pull(repo.owner, repo.name, existing.number, body=body)
        return existing
    try:
        pr = await repo.api.create_pull(
            repo.owner,
            repo.name,
            title=title,
            head=branch,
            base=base,
            body=body,
            draft=config.draft_prs,
        )
    except GitHubError:
        # A 5xx may come after GitHub made the PR (githubkit's retry then gets "already
        # exists"): look again before calling it a failure, so there is never a second PR.
        made = await repo.api.find_open_pull(repo.owner, repo.name, branch)
        if made is None:
            raise
        log.warning("PR #%s for %s was made although creating it failed", made.number, branch)
        pr = made
    await dress_pull(repo, run, pr.number)
    return pr


async def dress_pull(repo: RepoAccess, run: IssueRun, number: int) -> None:
    """The label and the review request every task's PR gets. Both are idempotent on GitHub,
    so a PR found again after its job was killed gets whatever it still lacks."""
    await repo.api.ensure_label(
        repo.owner, repo.name, PR_LABEL, description="Opened by Issuewright"
    )
    await repo.api.add_labels(repo.owner, repo.name, number, [PR_LABEL])
    if run.triggered_by and not run.triggered_by.endswith("[bot]"):
        try:
            await repo.api.request_reviewers(repo.owner, repo.name, number, [run.triggered_by])
        except GitHubError as exc:  # the PR is made; a reviewer GitHub refuses is not fatal
            log.warning("could not request a review from %s: %s", run.triggered_by, exc)
