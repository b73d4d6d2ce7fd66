"""`ci_fix` and `review` jobs: another attempt on the same branch, from CI output or from a
review — only words of people with write permission reach the prompt."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot import workspace
from bot.attempts import AttemptSpec, note, run_attempt, show_status
from bot.context import pack_context, rank_files
from bot.core.lifecycle import TaskEvent, TaskState
from bot.core.sanitize import clean_untrusted, trim_middle
from bot.dispatch import Router
from bot.prompts import PromptLibrary
from bot.repo_access import RepoAccess
from bot.runs import WRITE_ROLES, llm_choice
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, Task
from bot.taskstore import apply_event
from bot.tracker import FAILED_CONCLUSIONS

log = logging.getLogger(__name__)
router = Router()
LOG_CHARS = 6000


async def _load(ctx: HandlerContext, task_id: int) -> tuple[Task, IssueRun] | None:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        run = await session.get(IssueRun, task.run_id) if task else None
    return (task, run) if task and run else None


async def _diff(repo: RepoAccess, base: str, branch: str) -> str:
    mirror = await repo.sync_mirror()
    out = await asyncio.to_thread(
        workspace.git,
        "diff",
        f"{workspace.REMOTE_REFS}/{base}...{workspace.REMOTE_REFS}/{branch}",
        cwd=mirror,
        check=False,
    )
    return trim_middle(out.stdout, 20000)


async def _context(repo: RepoAccess, config: Any, query: str) -> tuple[str, list[str]]:
    repo_map = await repo.repo_map()
    ranked = rank_files(repo_map, query)
    packed = pack_context(repo_map, ranked, query, budget_tokens=config.context_budget_tokens)
    return packed.text, list(packed.files)


async def _failing_checks(repo: RepoAccess, sha: str, own_slug: str) -> list[dict[str, Any]]:
    failing = []
    for run in await repo.api.list_check_runs(repo.owner, repo.name, sha):
        if run.app_slug == own_slug or (run.conclusion or "") not in FAILED_CONCLUSIONS:
            continue
        notes = await repo.api.check_run_annotations(repo.owner, repo.name, run.id)
        lines = [
            f"{a.path}:{a.start_line}: {a.level}: {a.title or ''} {a.message or ''}"
            for a in notes[:50]
        ]
        output = "\n".join(filter(None, [run.title, run.summary, *lines]))
        failing.append(
            {
                "name": run.name,
                "conclusion": run.conclusion,
                "output": trim_middle(clean_untrusted(output), LOG_CHARS),
            }
        )
    return failing


@router.job("ci_fix")
async def ci_fix(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    loaded = await _load(ctx, int(payload["task_id"]))
    if loaded is None or loaded[0].state not in (TaskState.CHECKS_FAILED, TaskState.FAILED):
        return
    task, run = loaded
    repo = RepoAccess.open(ctx, run.installation_id, task.repository)
    config, _ = await repo.config()
    choice = llm_choice(config, ctx.settings)
    if choice is None or not task.head_sha or not task.branch:
        return
    failing = await _failing_checks(repo, task.head_sha, ctx.settings.app_slug)
    base = await repo.base_branch()
    base_failing = {
        c["name"]
        for c in await _failing_checks(repo, await repo.base_sha(base), ctx.settings.app_slug)
    }
    same = sorted(c["name"] for c in failing if c["name"] in base_failing)
    if same:
        await note(
            ctx,
            run.id,
            f"Task {task.ordinal}: {', '.join(same)} also fail(s) on `{base}`, so no CI-fix "
            "attempt was made; fix the base branch, then comment `/issuewright fix-ci`.",
        )
        await show_status(ctx, repo, run.id)
        return
    cause = f"job:{job_id}"
    async with ctx.sessions() as session, session.begin():
        row = await session.get(Task, task.id)
        assert row is not None
        if not await apply_event(session, row, TaskEvent.FIX_STARTED, cause):
            return
        row.ci_fix_attempts += 1
        attempt_no = row.ci_fix_attempts
    diff = await _diff(repo, base, task.branch)
    query = "\n".join([task.title, *(c["output"] for c in failing)])
    context, files = await _context(repo, config, query)
    library = PromptLibrary(await repo.prompt_overrides())
    prompt = library.render(
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
    system = library.render(
        "system", {"repo": repo.full_name, "denied_paths": list(config.denied_paths)}
    )
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


@router.job("review")
async def review_feedback(ctx: HandlerContext, payload: dict[str, Any], job_id: int) -> None:
    loaded = await _load(ctx, int(payload["task_id"]))
    if loaded is None or loaded[0].state != TaskState.FIXING or not loaded[0].pr_number:
        return
    task, run = loaded
    repo = RepoAccess.open(ctx, run.installation_id, task.repository)
    config, _ = await repo.config()
    choice = llm_choice(config, ctx.settings)
    if choice is None or not task.branch:
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
        repo, config, "\n".join([task.title, *(c["body"] for c in conversation)])
    )
    library = PromptLibrary(await repo.prompt_overrides())
    prompt = library.render(
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
    system = library.render(
        "system", {"repo": repo.full_name, "denied_paths": list(config.denied_paths)}
    )
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
