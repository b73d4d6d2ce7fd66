"""`ci_fix` and `review` jobs: another attempt on the same branch, from CI output or from a
review — only words of people with write permission reach the prompt."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from bot.attempt.resume import finish_if_pushed, show_what_it_did
from bot.attempt.runner import AttemptSpec, run_attempt
from bot.context import pack_context, rank_files
from bot.context.map_cache import APP_MAPS_KEPT, cached_map
from bot.core.checks import FAILED_CONCLUSIONS, latest_runs
from bot.core.ci_logs import log_excerpt
from bot.core.failure_notice import ci_fix_queued
from bot.core.lifecycle import TaskEvent, TaskState
from bot.core.sanitize import clean_untrusted, trim_middle
from bot.git import cmd as git_cmd
from bot.jobs.dispatch import Router
from bot.plan.planner import render_system
from bot.prompts.library import PromptLibrary
from bot.repo.access import RepoAccess
from bot.repo.config import llm_choice
from bot.repo.permissions import WRITE_ROLES
from bot.report.notes import note
from bot.report.publish import publish_task
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, Task
from bot.store.tasks import applied_by, apply_event
from bot.track.tracker import after_attempt

log = logging.getLogger(__name__)
router = Router()
ACTIONS_SLUG = "github-actions"
LOG_CHARS = 9000  # output, annotations and the job log excerpt together


async def _load(ctx: HandlerContext, task_id: int) -> tuple[Task, IssueRun] | None:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        run = await session.get(IssueRun, task.run_id) if task else None
    return (task, run) if task and run else None


async def _diff(repo: RepoAccess, base: str, branch: str) -> str:
    mirror = await repo.sync_mirror()
    out = await asyncio.to_thread(
        git_cmd.git,
        "diff",
        f"{git_cmd.REMOTE_REFS}/{base}...{git_cmd.REMOTE_REFS}/{branch}",
        cwd=mirror,
        check=False,
    )
    return trim_middle(out.stdout, 20000)


async def _context(repo: RepoAccess, config: Any, query: str, branch: str) -> tuple[str, list[str]]:
    """Context from the task's branch, not the base: the model's SEARCH blocks must match
    the files as the PR left them (the prompt says so)."""
    mirror = await repo.sync_mirror()
    out = await asyncio.to_thread(
        git_cmd.git, "rev-parse", f"{git_cmd.REMOTE_REFS}/{branch}^{{commit}}", cwd=mirror
    )
    cache = Path(repo.ctx.settings.data_dir) / "repomaps"
    repo_map = await asyncio.to_thread(
        cached_map, mirror, out.stdout.strip(), cache, keep=APP_MAPS_KEPT
    )
    # Ranking, packing and rendering are CPU work: off the event loop (the receiver's).
    ranked = await asyncio.to_thread(rank_files, repo_map, query)
    packed = await asyncio.to_thread(
        pack_context, repo_map, ranked, query, budget_tokens=config.context_budget_tokens
    )
    return packed.text, list(packed.files)


async def _failing_checks(
    repo: RepoAccess, sha: str, own_slug: str, *, with_logs: bool = False
) -> list[dict[str, Any]]:
    """Failing check runs with their output and annotations; with `with_logs`, also the
    failing part of a GitHub Actions job's log when the app may read it."""
    failing = []
    runs = await repo.api.list_check_runs(repo.owner, repo.name, sha)
    for run in latest_runs(runs, own_slug):
        if (run.conclusion or "") not in FAILED_CONCLUSIONS:
            continue
        notes = await repo.api.check_run_annotations(repo.owner, repo.name, run.id)
        lines = [
            f"{a.path}:{a.start_line}: {a.level}: {a.title or ''} {a.message or ''}"
            for a in notes[:50]
        ]
        output = "\n".join(filter(None, [run.title, run.summary, *lines]))
        if with_logs and run.app_slug == ACTIONS_SLUG:
            log = await repo.api.job_log(repo.owner, repo.name, run.id)
            if log:
                output += "\n\nJob log (the failing part):\n" + log_excerpt(log)
        failing.append(
            {
                "name": run.name,
                "conclusion": run.conclusion,
                "output": trim_middle(clean_untrusted(output), LOG_CHARS),
            }
        )
    return failing


async def _resuming(ctx: HandlerContext, task: Task, cause: str) -> bool:
    """The task is fixing because this very job started the fix (and died, or timed out)."""
    if task.state != TaskState.FIXING:
        return False
    async with ctx.sessions() as session:
        return await applied_by(session, task.id, TaskEvent.FIX_STARTED, cause)


@router.job("ci_fix")
async def ci_fix(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    cause = f"job:{job_id}"
    loaded = await _load(ctx, int(payload["task_id"]))
    if loaded is None:
        return
    task, run = loaded
    repo = RepoAccess.open(ctx, run.installation_id, task.repository, run.repository_id)
    resuming = await _resuming(ctx, task, cause)
    if not resuming and task.state not in (TaskState.CHECKS_FAILED, TaskState.FAILED):
        await show_what_it_did(ctx, repo, task.id, job_id)
        return
    if resuming and await finish_if_pushed(ctx, repo, task.id, job_id, TaskEvent.FIX_PUSHED):
        await after_attempt(ctx, repo, task.id, "ci_fix", cause)
        return
    task, run = await _load(ctx, task.id) or loaded  # the head may have been set back
    config, _ = await repo.config()
    choice = llm_choice(config, ctx.settings)
    if choice is None or not task.head_sha or not task.branch:
        return
    failing = await _failing_checks(repo, task.head_sha, ctx.settings.app_slug, with_logs=True)
    base = await repo.base_branch()
    base_failing = {
        c["name"]
        for c in await _failing_checks(repo, await repo.base_sha(base), ctx.settings.app_slug)
    }
    # A re-run goes on with the attempt its first run decided to make.
    same = [] if resuming else sorted(c["name"] for c in failing if c["name"] in base_failing)
    if same:
        # The task's error, not a note: it is where the task stands (core.failure_notice).
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task.id)
            if row is not None:
                row.last_error = (
                    f"{', '.join(same)} also fail(s) on `{base}`, so no CI-fix attempt was "
                    "made. Fix the base branch, then comment `/issuewright fix-ci`."
                )
        await publish_task(ctx, repo, task.id)
        return
    async with ctx.sessions() as session, session.begin():
        row = await session.get(Task, task.id)
        assert row is not None
        if not resuming:
            if not await apply_event(session, row, TaskEvent.FIX_STARTED, cause):
                return
            row.ci_fix_attempts += 1
            # Also after `fix-ci` past the limit: the row says this attempt, not "used up".
            row.last_error = ci_fix_queued(
                row.ci_fix_attempts, max(config.ci_fix_attempts, row.ci_fix_attempts)
            )
        attempt_no = row.ci_fix_attempts
    diff = await _diff(repo, base, task.branch)
    query = "\n".join([task.title, *(c["output"] for c in failing)])
    context, files = await _context(repo, config, query, task.branch)
    library = await asyncio.to_thread(PromptLibrary, await repo.prompt_overrides())
    prompt = await asyncio.to_thread(
        library.render,
        "fix_ci",
        {
            "repo": repo.full_name,
            "issue_number": task.issue_number,
            "pr_number": task.pr_number or 0,
            "branch": task.branch,
            "task_title": task.title,
            "task_body": task.body,
            "checks": failing,
            "diff": diff,
            "context": context,
            "attempt": attempt_no,
            "max_attempts": max(config.ci_fix_attempts, attempt_no),
            "repo_instructions": config.instructions or None,
        },
    )
    system = await asyncio.to_thread(render_system, library, repo.full_name, config)
    spec = AttemptSpec(
        "ci_fix",
        system,
        prompt,
        tuple(files),
        task.branch,
        TaskEvent.FIX_PUSHED,
        TaskEvent.FIX_FAILED,
    )
    await run_attempt(ctx, repo, task.id, config, choice, job_id, spec)
    await after_attempt(ctx, repo, task.id, "ci_fix", cause)


@router.job("review")
async def review_feedback(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    loaded = await _load(ctx, int(payload["task_id"]))
    if loaded is None:
        return
    task, run = loaded
    repo = RepoAccess.open(ctx, run.installation_id, task.repository, run.repository_id)
    if task.state != TaskState.FIXING or not task.pr_number:
        await show_what_it_did(ctx, repo, task.id, job_id)
        return
    config, _ = await repo.config()
    choice = llm_choice(config, ctx.settings)
    if choice is None or not task.branch or not task.pr_number:
        return
    cause = f"job:{job_id}"
    if await finish_if_pushed(ctx, repo, task.id, job_id, TaskEvent.FEEDBACK_PUSHED):
        await after_attempt(ctx, repo, task.id, "review", cause)  # run again after a kill
        return
    permissions: dict[str, bool] = {}

    async def trusted(login: str) -> bool:
        if login not in permissions:
            permissions[login] = (
                await repo.api.permission(repo.owner, repo.name, login) in WRITE_ROLES
            )
        return permissions[login]

    pr = task.pr_number
    conversation: list[dict[str, Any]] = []
    for review in await repo.api.list_reviews(repo.owner, repo.name, pr):
        if review.body.strip() and await trusted(review.user):
            conversation.append({"author": review.user, "body": clean_untrusted(review.body)})
    for comment in await repo.api.list_review_comments(repo.owner, repo.name, pr):
        if await trusted(comment.user):
            conversation.append(
                {
                    "author": comment.user,
                    "body": clean_untrusted(comment.body),
                    "path": comment.path,
                    "line": comment.line,
                }
            )
    base = await repo.base_branch()
    diff = await _diff(repo, base, task.branch)
    context, files = await _context(
        repo, config, "\n".join([task.title, *(c["body"] for c in conversation)]), task.branch
    )
    library = await asyncio.to_thread(PromptLibrary, await repo.prompt_overrides())
    prompt = await asyncio.to_thread(
        library.render,
        "review_feedback",
        {
            "repo": repo.full_name,
            "issue_number": task.issue_number,
            "pr_number": pr,
            "branch": task.branch,
            "task_title": task.title,
            "task_body": task.body,
            "review_comments": conversation,
            "diff": diff,
            "context": context,
            "repo_instructions": config.instructions or None,
        },
    )
    system = await asyncio.to_thread(render_system, library, repo.full_name, config)
    spec = AttemptSpec(
        "review",
        system,
        prompt,
        tuple(files),
        task.branch,
        TaskEvent.FEEDBACK_PUSHED,
        TaskEvent.FIX_FAILED,
    )
    await run_attempt(ctx, repo, task.id, config, choice, job_id, spec)
    async with ctx.sessions() as session:
        after = await session.get(Task, task.id)
    failed = (TaskState.CHECKS_FAILED, TaskState.FIXING)
    if after is not None and after.state in failed and after.last_error:
        # The lifecycle files a failed attempt under checks_failed; the tracker re-reads the
        # real checks next, so say in a note what failed, or it would be lost.
        await note(
            ctx,
            run.id,
            f"Task {task.ordinal}: review feedback was not applied: {after.last_error}",
        )
    await after_attempt(ctx, repo, task.id, "review", cause)
