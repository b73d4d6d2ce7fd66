"""The local adapter of `issuewright run`: where the app pushes a branch and opens a pull
request, this makes a branch and a commit in the user's checkout. Everything between the
plan and the commit is the app's own: the rendered prompts of `plan_issue`, the operator's
client with its retries, and the answer-to-edits loop with its repair round
(bot/attempt/edit_rounds.py). Each task works in its own worktree, so the user's branch,
index and files are never touched."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.attempt.edit_rounds import Round, StopAttempt, attempt_messages, edit_rounds
from bot.attempt.formatter import formatter_for
from bot.cli.attempt_files import write_answer, write_prompt
from bot.cli.run_input import LocalRepo
from bot.cli.run_progress import Display
from bot.cli.run_record import RunRecord, TaskRecord, attempt_folder
from bot.core.budget import check_budget, reserve_call
from bot.core.lifecycle import TaskEvent
from bot.core.policy import LLMChoice
from bot.core.publish import neutralize_line
from bot.git import worktrees as workspace
from bot.git.cmd import GitError
from bot.llm.base import (
    AuthenticationError,
    ChatMessage,
    ConfigurationError,
    LLMClient,
    LLMError,
    LLMRequest,
    LLMResponse,
    ProviderUnavailableError,
)
from bot.llm.pricing import PricingTable
from bot.plan.planner import TaskPlan
from bot.repo.llm import llm_client
from bot.settings import RepoConfig, Settings


class BudgetStop(Exception):
    """The next call would take the run past `--max-usd`: it is not sent."""


@dataclass
class Budget:
    warn_usd: float
    max_usd: float
    spent: float = 0.0
    warned: bool = False
    stopped: str | None = None
    # The endpoint cannot be used (down after retries, key refused): every task would fail.
    endpoint: str | None = None


@dataclass(frozen=True)
class LocalRun:
    repo: LocalRepo
    settings: Settings
    config: RepoConfig
    choice: LLMChoice
    identity: workspace.GitIdentity
    slug: str
    say: Callable[[str], None]
    display: Display


async def run_tasks(
    local: LocalRun,
    record: RunRecord,
    plans: dict[str, TaskPlan],
    budget: Budget,
    parallel: int = 1,
) -> None:
    """Every task not done yet, dependents after their dependency (skipped if it failed)."""
    client = llm_client(local.settings, local.choice)
    pricing = PricingTable(local.settings.llm_pricing_overrides)
    slots = asyncio.Semaphore(max(parallel, 1))
    by_ordinal = {t.ordinal: t for t in record.tasks}
    finished = {t.ordinal: asyncio.Event() for t in record.tasks}

    async def one(task: TaskRecord) -> None:
        try:
            if task.state == "done":
                return
            deps = [d for d in plans[task.key].task.depends_on if d in by_ordinal]
            for d in deps:
                await finished[d].wait()
            failed = [d for d in deps if by_ordinal[d].state != "done"]
            if failed or budget.stopped or budget.endpoint:
                task.state, task.error = (
                    "skipped",
                    (
                        budget.stopped
                        or budget.endpoint
                        or f"task {failed[0]} it depends on is not done"
                    ),
                )
                return
            # From its dependency's branch; the others' (if several) are merged in.
            branches = [str(by_ordinal[d].branch) for d in deps]
            start = branches[0] if branches else record_head(record, local)
            async with slots:
                if budget.stopped or budget.endpoint:
                    task.state, task.error = "skipped", budget.stopped or budget.endpoint
                    return
                await run_task(
                    local,
                    record,
                    task,
                    plans[task.key],
                    (start, *branches[1:]),
                    budget,
                    client,
                    pricing,
                )
        finally:
            record.save()
            finished[task.ordinal].set()

    try:
        await asyncio.gather(*(one(t) for t in record.tasks))
    finally:
        await client.aclose()


def record_head(record: RunRecord, local: LocalRun) -> str:
    """Tasks start from the commit HEAD was on when the run began (kept for --resume)."""
    return str(record.issue.setdefault("head", local.repo.head))


async def run_task(
    local: LocalRun,
    record: RunRecord,
    task: TaskRecord,
    tp: TaskPlan,
    starts: tuple[str, ...],
    budget: Budget,
    client: LLMClient,
    pricing: PricingTable,
) -> None:
    began = time.monotonic()
    folder = attempt_folder(record, task)
    branch = f"issuewright/{local.slug}-{task.ordinal}"
    dest = Path(tempfile.mkdtemp(prefix="issuewright-run-")) / branch.replace("/", "-")
    task.state, task.error, task.branch = "running", None, None
    local.display.start(task)
    local.display.stage(task, "making its worktree")
    local.say(f"task {task.ordinal}: {task.title} — on {branch}")
    model = local.choice.model
    price = pricing.price(model)

    async def ask(round_: int, messages: list[ChatMessage]) -> LLMResponse:
        write_prompt(folder, round_, messages, record.secrets)
        local.display.stage(task, f"asking {model}" + (" (repair round)" if round_ > 1 else ""))
        reserve = reserve_call(
            (m.content for m in messages),
            local.config.max_output_tokens,
            (price.input_per_mtok, price.output_per_mtok),
        )
        # The app's rule, with the run's --max-usd where the app has the month's cap.
        decision = check_budget(
            reserve.cost_usd or 0.0,
            task.cost_usd,
            local.config.task_budget_usd,
            budget.spent,
            budget.max_usd,
        )
        if not decision.allowed and decision.scope == "task":
            raise StopAttempt(TaskEvent.BUDGET_EXCEEDED, decision.message)
        if not decision.allowed:
            budget.stopped = (
                f"the next call (up to ${reserve.cost_usd or 0:.4f}) would take the run past "
                f"--max-usd ${budget.max_usd:.2f}; ${budget.spent:.4f} spent. Resume with "
                f"`issuewright run --resume {record.run_id} --max-usd N`"
            )
            raise BudgetStop(budget.stopped)
        response = await client.complete(
            LLMRequest(
                messages=list(messages),
                max_tokens=local.config.max_output_tokens,
                stream=True,
                progress=lambda tokens: local.display.tokens(task, tokens),
            )
        )
        cost = pricing.cost_usd(model, response.input_tokens, response.output_tokens)
        # Said (and the streamed count dropped) before the task's totals take the answer in,
        # so the table never shows its tokens twice.
        local.display.answered(
            task,
            f"answered: {response.input_tokens:,} in / {response.output_tokens:,} out tokens, "
            f"${cost:.4f}",
        )
        task.tokens["input"] += response.input_tokens
        task.tokens["output"] += response.output_tokens
        task.cost_usd += cost
        budget.spent += cost
        if budget.spent >= budget.warn_usd and not budget.warned:
            budget.warned = True
            local.say(
                f"warning: this run has spent ${budget.spent:.4f}, past --warn-usd "
                f"${budget.warn_usd:.2f} (it stops before passing --max-usd "
                f"${budget.max_usd:.2f})"
            )
        write_answer(folder, round_, response.text, record.secrets)
        local.display.stage(task, "applying the answer")
        return response

    async def seen(done: Round) -> None:
        result = {
            "ok": done.plan.ok,
            "files": [c.path for c in done.plan.changes],
            "problems": [p.render() for p in done.plan.problems],
            "finish_reason": str(done.response.finish_reason),
        }
        (folder / f"round-{done.number}-apply.json").write_text(json.dumps(result, indent=2))

    made = False
    try:
        if workspace.branch_exists(local.repo.root, branch):
            raise StopAttempt(
                TaskEvent.GENERATION_FAILED,
                f"the branch {branch} already exists (an earlier run?): resume that run, or "
                f"delete the branch (`git branch -D {branch}`) and run again",
            )
        await asyncio.to_thread(
            workspace.add_branch_worktree,
            local.repo.root,
            branch=branch,
            start=starts[0],
            dest=dest,
        )
        made = True
        for other in starts[1:]:
            await asyncio.to_thread(workspace.merge_branch, dest, other, author=local.identity)
        messages = attempt_messages(tp.system.text, tp.prompt.text)
        formatter = formatter_for(local.settings, local.config)
        hint = f"Resume with `issuewright run --resume {record.run_id}`."
        plan = await edit_rounds(
            dest, local.config, formatter, messages, ask, seen, retry_hint=hint
        )
        local.display.stage(task, "committing")
        message = commit_message(task, record.issue_title, model)
        commit = await asyncio.to_thread(workspace.commit_all, dest, message, author=local.identity)
        if commit is None:
            raise StopAttempt(TaskEvent.GENERATION_FAILED, "the answer changed nothing")
        task.stat = await asyncio.to_thread(workspace.diff_of_head, dest)
        (folder / "diff.patch").write_text(task.stat, encoding="utf-8")
        task.state, task.branch, task.commit = "done", branch, commit
        task.files = sorted(c.path for c in plan.changes)
        local.say(f"task {task.ordinal}: done, {commit[:12]} on {branch}")
    except StopAttempt as stop:
        fail(local, task, stop.message)
    except (ProviderUnavailableError, AuthenticationError, ConfigurationError) as exc:
        budget.endpoint = endpoint_message(local, exc)
        fail(local, task, budget.endpoint)
    except LLMError as exc:
        fail(local, task, exc.user_message)
    except BudgetStop as exc:
        task.state, task.error = "pending", str(exc)
        local.say(f"stopped: {exc}")
    except GitError as exc:
        fail(local, task, f"git: {exc}")
    except asyncio.CancelledError:  # Ctrl-C: the task is undone whole, to be resumed
        task.state, task.error = "failed", "interrupted before its commit"
        raise
    finally:
        task.seconds += time.monotonic() - began
        if made:
            keep = task.state == "done"
            await asyncio.to_thread(
                workspace.drop_worktree,
                local.repo.root,
                dest,
                delete_branch=None if keep else branch,
            )
        shutil.rmtree(dest.parent, ignore_errors=True)


def endpoint_message(local: LocalRun, exc: LLMError) -> str:
    """What was tried and what to check, in the command line's terms (not a comment's)."""
    status = f" (HTTP {exc.status_code})" if exc.status_code else ""
    choice = local.choice
    parts = urlsplit(choice.base_url or "")
    # Host and port only: a URL can carry credentials (http://user:key@gateway/v1).
    where = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    where = where or f"the {choice.provider} API"
    return (
        f"{exc.summary}{status}: tried {where} ({choice.provider}, model {choice.model}) "
        f"{exc.attempts} time(s); check LLM_BASE_URL, LLM_API_KEY and that the server is "
        "running (`issuewright check` tries it)"
    )


def fail(local: LocalRun, task: TaskRecord, message: str) -> None:
    task.state, task.error = "failed", message
    local.say(f"task {task.ordinal}: failed: {message}")


def commit_message(task: TaskRecord, issue_title: str, model: str) -> str:
    subject = neutralize_line(task.title, 200)
    about = neutralize_line(issue_title, 200)
    return f'{subject}\n\nIssuewright task {task.ordinal} of "{about}", written by {model}.'


def say_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
