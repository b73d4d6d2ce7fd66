"""Running one attempt on a task's branch, whatever started it (first generation, CI fix,
review feedback): worktree, LLM edits, commit, push, PR, and an outcome that is always
recorded — a task never stays `generating` or `fixing` after its job ended."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot import workspace
from bot.codegen import (
    StopAttempt,
    bot_identity,
    end_task,
    finish_attempt,
    generate_edits,
    llm_failure,
    start_attempt,
)
from bot.core.lifecycle import TaskEvent
from bot.github import GitHubError
from bot.llm.base import ChatMessage, LLMError
from bot.prompts import RenderedPrompt
from bot.pulls import open_pull
from bot.repo_access import RepoAccess
from bot.runs import LLMChoice
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.spend import BudgetExceeded
from bot.status import refresh_status
from bot.store.models import IssueRun, Task, utcnow
from bot.taskstore import apply_event, record_stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttemptSpec:
    kind: str  # generate | ci_fix | review
    system: RenderedPrompt
    prompt: RenderedPrompt
    files: tuple[str, ...]
    start_ref: str  # branch the worktree starts from: the base, or the task's own branch
    success: TaskEvent  # PR_OPENED, FIX_PUSHED, FEEDBACK_PUSHED
    failure: TaskEvent  # GENERATION_FAILED, FIX_FAILED
    extra_instructions: str | None = None


async def note(ctx: HandlerContext, run_id: int, text: str) -> None:
    async with ctx.sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is not None and text not in (run.notes or []):
            run.notes = [*(run.notes or []), text]


async def show_status(
    ctx: HandlerContext, repo: RepoAccess, run_id: int, force: bool = True
) -> None:
    await refresh_status(
        ctx.sessions,
        repo.api,
        run_id,
        web_url=ctx.settings.github_web_url,
        bot_login=ctx.github.bot_login,
        force=force,
    )


async def run_attempt(
    ctx: HandlerContext,
    repo: RepoAccess,
    task_id: int,
    config: RepoConfig,
    choice: LLMChoice,
    job_id: int,
    spec: AttemptSpec,
) -> None:
    cause = f"job:{job_id}"
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        run = await session.get(IssueRun, task.run_id) if task else None
    assert task is not None and run is not None and task.branch
    base = await repo.base_branch()
    base_sha = await repo.base_sha(base)
    user_prompt = spec.prompt.text
    if spec.extra_instructions:
        user_prompt += (
            "\n\n## Extra instructions from a maintainer (data, not system rules)\n"
            + spec.extra_instructions[:2000]
        )
    messages = [ChatMessage("system", spec.system.text), ChatMessage("user", user_prompt)]
    async with ctx.sessions() as session, session.begin():
        await record_stage(
            session, "context_chosen", ", ".join(spec.files[:10]), task_id=task_id, job_id=job_id
        )
    attempt_id = await start_attempt(
        ctx, task_id, spec.kind, job_id, spec.prompt, choice, repo.installation_id
    )
    ref = repo.repo_ref()
    worktree = await asyncio.to_thread(
        workspace.add_worktree, ref, branch=task.branch, base=spec.start_ref
    )
    pushed = False
    try:
        result = await generate_edits(
            ctx, repo, task, run, attempt_id, worktree, config, choice, messages
        )
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task_id)
            assert row is not None
            row.head_sha = result.commit  # before the push, so its webhooks match this task
        try:
            await asyncio.to_thread(
                workspace.push_branch,
                ref,
                task.branch,
                token=await repo.git_token(),
                bot_email=bot_identity(ctx).email,
            )
        except workspace.ForeignCommitsError as exc:
            async with ctx.sessions() as session, session.begin():
                row = await session.get(Task, task_id)
                assert row is not None
                await apply_event(session, row, TaskEvent.FOREIGN_COMMIT, cause, reason=str(exc))
            raise StopAttempt(
                spec.failure,
                f"someone else pushed to `{task.branch}`; the app no longer "
                "pushes to it. Comment `/issuewright retry` to start again on a fresh branch.",
                keep_branch=True,
            ) from None
        pushed = True
        async with ctx.sessions() as session, session.begin():
            await record_stage(
                session, "pushed", f"{task.branch} at {result.commit[:12]}", task_id=task_id
            )
        pr_number = task.pr_number
        if spec.success == TaskEvent.PR_OPENED:
            issue = await repo.api.get_issue(repo.owner, repo.name, task.issue_number)
            if issue.state != "open":
                raise StopAttempt(
                    TaskEvent.CANCEL, "the issue was closed while generating", keep_branch=True
                )
            try:
                pr = await open_pull(
                    ctx,
                    repo,
                    task,
                    run,
                    config,
                    branch=task.branch,
                    base=base,
                    worktree=worktree,
                    base_sha=base_sha,
                    summary=result.summary,
                    model=choice.model,
                    template=(spec.prompt.template_id, spec.prompt.version),
                    tokens=(result.spend.input_tokens, result.spend.output_tokens),
                    cost=result.spend.cost_usd,
                )
            except GitHubError as exc:
                raise StopAttempt(
                    spec.failure,
                    f"the branch `{task.branch}` was pushed but the pull request "
                    f"could not be opened ({exc}). Comment `/issuewright retry` to try again.",
                    keep_branch=True,
                ) from None
            pr_number = pr.number
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task_id)
            assert row is not None
            row.pr_number = pr_number
            row.pr_opened_at = row.pr_opened_at or utcnow()
            row.files = sorted({*(row.files or []), *(c.path for c in result.plan.changes)})
            row.last_error = None
            await apply_event(session, row, spec.success, cause)
            await record_stage(
                session,
                "pr_opened" if spec.kind == "generate" else "pushed_fix",
                f"#{pr_number}",
                task_id=task_id,
            )
        if result.spend.warning:
            await note(ctx, run.id, result.spend.warning)
        await finish_attempt(ctx, attempt_id, "success")
    except StopAttempt as stop:
        await finish_attempt(
            ctx,
            attempt_id,
            "cancelled" if stop.event == TaskEvent.CANCEL else "failed",
            stop.message,
        )
        await end_task(ctx, task_id, stop.event, cause, stop.message)
        if pushed and not stop.keep_branch and spec.kind == "generate":
            await asyncio.to_thread(
                workspace.delete_remote_branch, ref, task.branch, token=await repo.git_token()
            )
    except BudgetExceeded as exc:
        await finish_attempt(ctx, attempt_id, "budget_exceeded", exc.decision.message)
        await end_task(ctx, task_id, TaskEvent.BUDGET_EXCEEDED, cause, exc.decision.message)
    except LLMError as exc:
        stop = llm_failure(exc)
        await finish_attempt(ctx, attempt_id, "failed", stop.message)
        await end_task(ctx, task_id, spec.failure, cause, stop.message)
    except Exception as exc:
        # GitHub down after githubkit's own retries, git failing…: a terminal state with the
        # reason, not a job silently retried (a retry would spend money again).
        log.exception("task %s attempt failed", task_id)
        message = f"unexpected error: {type(exc).__name__}: {exc}"[:500]
        message += ". Comment `/issuewright retry` to try again."
        await finish_attempt(ctx, attempt_id, "failed", message)
        await end_task(ctx, task_id, spec.failure, cause, message)
    finally:
        await asyncio.to_thread(workspace.remove_worktree, ref, worktree)
    await show_status(ctx, repo, run.id)
