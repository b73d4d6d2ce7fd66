"""Running one attempt on a task's branch, whatever started it (first generation, CI fix,
review feedback): worktree, LLM edits, commit, push, PR, and an outcome that is always
recorded — a task never stays `generating` or `fixing` after its job ended."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.attempt.budget_guard import BudgetExceeded, Spend
from bot.attempt.edit_rounds import attempt_messages
from bot.attempt.llm_edits import (
    AttemptResult,
    StopAttempt,
    bot_identity,
    generate_edits,
    llm_failure,
)
from bot.attempt.pull_request import open_pull
from bot.attempt.records import end_task, finish_attempt, start_attempt
from bot.attempt.resume import record_commit
from bot.attempt.takeover import take_over
from bot.core.lifecycle import TaskEvent
from bot.core.policy import LLMChoice
from bot.git import remote as git_remote
from bot.git import worktrees as workspace
from bot.github import GitHubError
from bot.llm.base import LLMError
from bot.prompts.templates import RenderedPrompt
from bot.repo.access import RepoAccess
from bot.report.notes import note, task_note
from bot.report.progress import reporter_for
from bot.report.publish import publish_task
from bot.runtime import HandlerContext
from bot.settings import RepoConfig
from bot.store.models import IssueRun, Task, utcnow
from bot.store.tasks import apply_event, record_stage, save_stage

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


async def run_attempt(
    ctx: HandlerContext,
    repo: RepoAccess,
    task_id: int,
    config: RepoConfig,
    choice: LLMChoice,
    job_id: int,
    spec: AttemptSpec,
    *,
    checkout: asyncio.Task[Path] | None = None,
) -> None:
    """`checkout`: the worktree, already being made by the caller (from `spec.start_ref`)."""
    cause = f"job:{job_id}"
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        run = await session.get(IssueRun, task.run_id) if task else None
    assert task is not None and run is not None and task.branch
    messages = attempt_messages(spec.system.text, spec.prompt.text, spec.extra_instructions)
    await save_stage(
        ctx.sessions, "context_chosen", ", ".join(spec.files[:10]), task_id=task_id, job_id=job_id
    )
    # A re-run of a job that died mid-attempt: its attempt closed, its answer used again.
    reuse = await take_over(ctx, task_id, spec.kind, spec.prompt.sha256)
    attempt_id = await start_attempt(
        ctx, task_id, spec.kind, job_id, spec.prompt, choice, repo.installation_id
    )
    ref = repo.repo_ref()
    spend = Spend()
    worktree = None
    pushed = False
    failure: StopAttempt | None = None
    outcome = "failed"
    try:
        base = await repo.base_branch()
        base_sha = await repo.base_sha(base)
        if checkout is None:
            checkout = asyncio.create_task(
                asyncio.to_thread(
                    workspace.add_worktree,
                    ref,
                    branch=task.branch,
                    base=spec.start_ref,
                    sparse=not config.formatter,  # a formatter may need the whole tree
                )
            )
        worktree = await checkout
        # The row shows the answer arriving; the reporter's last edit lands before ours.
        reporter = reporter_for(
            ctx, repo.api, repo.installation_id, run.id, task.ordinal, attempt_id
        )
        try:
            result = await generate_edits(
                ctx,
                repo,
                task,
                run,
                attempt_id,
                worktree,
                config,
                choice,
                messages,
                spend,
                progress=reporter,
                reuse=reuse,
            )
        finally:
            await reporter.aclose()
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task_id)
            assert row is not None
            # Before the push, so its webhooks match this task, and a re-run of this job
            # finds the commit (bot/attempt/resume.py).
            await record_commit(session, row, result.commit, job_id)
        await push(ctx, repo, task, spec, cause)
        pushed = True
        await save_stage(
            ctx.sessions, "pushed", f"{task.branch} at {result.commit[:12]}", task_id=task_id
        )
        pr_number = task.pr_number
        if spec.success == TaskEvent.PR_OPENED:
            pr_number = await open_task_pull(
                ctx, repo, task, run, config, spec, choice, worktree, base, base_sha, result
            )
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
        outcome = "success"
        await finish_attempt(ctx, attempt_id, outcome)
        await task_note(ctx, run.id, task.ordinal, None)
    except StopAttempt as stop:
        # Shared code raises GENERATION_FAILED; a fix or review attempt fails as its own kind.
        failure = stop
        if stop.event == TaskEvent.GENERATION_FAILED:
            failure = StopAttempt(
                spec.failure, stop.message, keep_branch=stop.keep_branch, detail=stop.detail
            )
    except BudgetExceeded as exc:
        outcome = "budget_exceeded"
        failure = StopAttempt(TaskEvent.BUDGET_EXCEEDED, exc.decision.message)
    except LLMError as exc:
        llm_stop = llm_failure(exc)
        failure = StopAttempt(spec.failure, llm_stop.message, detail=llm_stop.detail)
    except Exception as exc:
        # GitHub down after githubkit's own retries, git failing…: a terminal state with the
        # reason, not a job silently retried (a retry would spend money again).
        log.exception("task %s attempt failed", task_id)
        message = f"unexpected error: {type(exc).__name__}: {exc}"[:400]
        if pushed:
            message += f". The pushed branch `{task.branch}` is kept"
        failure = StopAttempt(
            spec.failure, message + ". Comment `/issuewright retry` to try again.", keep_branch=True
        )
    finally:
        if worktree is not None:
            await asyncio.to_thread(workspace.remove_worktree, ref, worktree)
        elif checkout is not None:
            await discard_checkout(repo, checkout)
        for text in spend.notes:
            await note(ctx, run.id, text)
    if failure is not None:
        if failure.event == TaskEvent.CANCEL:
            outcome = "cancelled"
        if failure.detail:
            # The comment gets the message; what exactly went wrong is for the operator.
            log.warning("task %s attempt failed: %s", task_id, failure.detail)
        record = f"{failure.message}\n{failure.detail}" if failure.detail else failure.message
        await finish_attempt(ctx, attempt_id, outcome, record)
        await end_task(ctx, task_id, failure.event, cause, failure.message)
        await task_note(ctx, run.id, task.ordinal, failure.message)
        if pushed and not failure.keep_branch and spec.kind == "generate":
            await asyncio.to_thread(
                git_remote.delete_remote_branch, ref, task.branch, token=await repo.git_token()
            )

    await publish_task(ctx, repo, task_id)


async def discard_checkout(repo: RepoAccess, checkout: asyncio.Task[Path]) -> None:
    """Wait for a worktree being made and remove it (the attempt ended before using it)."""
    try:
        worktree = await checkout
    except Exception:
        return  # it was never made
    await asyncio.to_thread(workspace.remove_worktree, repo.repo_ref(), worktree)


async def push(
    ctx: HandlerContext, repo: RepoAccess, task: Task, spec: AttemptSpec, cause: str
) -> None:
    assert task.branch
    try:
        await asyncio.to_thread(
            git_remote.push_branch,
            repo.repo_ref(),
            task.branch,
            token=await repo.git_token(),
            bot_email=bot_identity(ctx).email,
        )
    except git_remote.ForeignCommitsError as exc:
        async with ctx.sessions() as session, session.begin():
            row = await session.get(Task, task.id)
            assert row is not None
            row.head_sha = task.head_sha  # our commit never reached GitHub
            await apply_event(session, row, TaskEvent.FOREIGN_COMMIT, cause, reason=str(exc))
        raise StopAttempt(
            spec.failure,
            f"someone else pushed to `{task.branch}`; the app no longer "
            "pushes to it. Comment `/issuewright retry` to start again on a fresh branch.",
            keep_branch=True,
        ) from None


async def open_task_pull(
    ctx: HandlerContext,
    repo: RepoAccess,
    task: Task,
    run: IssueRun,
    config: RepoConfig,
    spec: AttemptSpec,
    choice: LLMChoice,
    worktree: Path,
    base: str,
    base_sha: str,
    result: AttemptResult,
) -> int:
    """The task's PR (found or made) once its branch is pushed; the branch stays if not."""
    assert task.branch
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
            f"the pull request could not be opened ({exc}); the pushed branch "
            f"`{task.branch}` is kept. Comment `/issuewright retry` to try again.",
            keep_branch=True,
        ) from None
    return pr.number
