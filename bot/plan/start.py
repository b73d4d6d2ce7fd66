"""Starting work on an issue: plan it, store its tasks, and queue what can start.

Used by the label trigger and by the `plan` / `retry` commands."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from bot.core.decompose import PlannedTask
from bot.core.lifecycle import NOT_STARTED, TaskEvent, TaskState
from bot.jobs.schedule import drop_queued_jobs, schedule_ready_tasks
from bot.plan.approvals import LabelEvent, approve, record_label_event
from bot.plan.issue_plan import RepoContent, plan_issue
from bot.plan.llm_plan import count_grouping, llm_grouping
from bot.plan.planner import IssueText, Plan
from bot.repo.access import BaseBranchMissing, RepoAccess
from bot.repo.config import llm_choice
from bot.report.publish import publish_run
from bot.runtime import HandlerContext
from bot.settings import CONFIG_PATH
from bot.store.models import IssueRun, Task, utcnow
from bot.store.tasks import apply_event, get_run, record_stage, tasks_of

log = logging.getLogger(__name__)


async def ensure_run(
    repo: RepoAccess,
    issue: dict[str, Any],
    triggered_by: str,
    notes: Sequence[str],
    plan_only: bool,
) -> int:
    """The issue's run, with `issue`'s text approved by `triggered_by` (who has write
    permission: every caller checked)."""
    ctx = repo.ctx
    repository_id = await repo.identity()
    async with ctx.sessions() as session, session.begin():
        run = await get_run(session, repository_id, repo.installation_id, issue["number"])
        if run is None:
            run = IssueRun(
                repository=repo.full_name,
                repository_id=repository_id,
                installation_id=repo.installation_id,
                issue_number=issue["number"],
            )
            session.add(run)
        run.repository = repo.full_name  # the name it has now, for people to read
        run.title = issue.get("title") or ""
        run.author = (issue.get("user") or {}).get("login")
        run.triggered_by = triggered_by
        run.notes = list(notes)
        approve(run, issue.get("title"), issue.get("body"), triggered_by)
        run.plan_only = plan_only
        run.updated_at = utcnow()
        await session.flush()
        return run.id


async def store_tasks(
    ctx: HandlerContext, run_id: int, repo: RepoAccess, plan: Plan, cause: str
) -> None:
    """Insert new tasks; update the text of tasks that have not started. Keys are stable, so
    a re-label or an edited issue never duplicates a task."""
    async with ctx.sessions() as session, session.begin():
        existing = {t.key: t for t in await tasks_of(session, run_id)}
        planned_keys = {tp.task.key for tp in plan.tasks}
        for row in existing.values():
            # Taken out of the issue (or ticked as done) before work began: do not build it.
            if row.key not in planned_keys and row.state in NOT_STARTED:
                if await apply_event(
                    session, row, TaskEvent.CANCEL, cause, reason="no longer in the issue"
                ):
                    row.last_error = "taken out of the issue"  # shown in the status table
                    await drop_queued_jobs(session, row)
        for tp in plan.tasks:
            t = tp.task
            found = existing.get(t.key)
            if found is not None:
                row = found
            else:
                row = Task(
                    key=t.key,
                    run_id=run_id,
                    repository=repo.full_name,
                    repository_id=repo.repository_id,
                    issue_number=plan.issue.number,
                    ordinal=t.ordinal,
                    title=t.title,
                    state=str(TaskState.PLANNED),
                )
                session.add(row)
            if row.state in NOT_STARTED or row.state == TaskState.CANCELLED:
                row.title, row.body, row.task_type = t.title, t.body, t.type
                row.depends_on = list(t.depends_on)
                row.criteria = list(t.criteria)
                row.files = tp.files
                row.updated_at = utcnow()


def stored_task(row: Task) -> PlannedTask:
    """A task as the planner made it, from its row."""
    return PlannedTask(
        row.key,
        row.ordinal,
        row.title,
        row.body or "",
        row.task_type,  # type: ignore[arg-type]  # stored from a valid PlannedTask
        list(row.depends_on or []),
        criteria=list(row.criteria or []),
    )


async def run_planned_tasks(ctx: HandlerContext, run_id: int) -> list[PlannedTask]:
    """All of a run's tasks as the planner made them. A task's prompt is rendered with these
    so it says "task N of M" and names the other tasks, which get their own PRs."""
    async with ctx.sessions() as session:
        rows = await tasks_of(session, run_id)
    return [stored_task(t) for t in rows]


async def start_run(
    repo: RepoAccess,
    issue: dict[str, Any],
    triggered_by: str,
    *,
    plan_only: bool,
    cause: str,
    label_event: LabelEvent | None = None,
) -> None:
    """Plan the issue as given (the text `triggered_by`, who has write permission, approves),
    update its tasks and status comment; unless planning only, queue work."""
    ctx = repo.ctx
    config, config_problems = await repo.config()
    choice = llm_choice(config, ctx.settings)
    plan_reason = None
    if choice is None:
        plan_only = True
        plan_reason = (
            "No LLM is configured for this repository (the server's operator sets "
            f"LLM_PROVIDER / LLM_MODEL or LLM_ENDPOINTS; `{CONFIG_PATH}` picks among them "
            "with `llm_endpoint` and `llm_model`)."
        )
        if config_problems:  # the LLM may be set in a file that could not be used as written
            plan_reason += f" `{CONFIG_PATH}` has problems (see Notes), so defaults apply."
    elif plan_only:
        plan_reason = "Asked for a plan; remove the plan label and add the trigger label to start."
    text = IssueText(
        repo.full_name,
        issue["number"],
        issue.get("title") or "",
        issue.get("body") or "",
        [label["name"] for label in issue.get("labels") or [] if isinstance(label, dict)],
    )
    problems: list[str] = []
    try:
        repo_map, overrides = await repo.repo_map(), await repo.prompt_overrides()
    except BaseBranchMissing as exc:  # say so on the issue instead of failing in silence
        repo_map, overrides = None, {}
        problems.append(str(exc))
        plan_only, plan_reason = True, "Nothing can be generated until the base branch exists."
    content = RepoContent(config, config_problems, repo_map, overrides, problems)
    # `llm_plan`: the model groups the items (one budgeted call), else the rules do.
    asked = await llm_grouping(ctx, repo.installation_id, config, choice, text)
    grouping = asked.outcome if asked else None
    # CPU only, but seconds for a big issue or a hostile override: off the event loop, so
    # the webhook receiver and the other jobs keep running meanwhile.
    planned = await asyncio.to_thread(plan_issue, text, content, ctx.settings, grouping)
    plan = planned.plan
    run_id = await ensure_run(repo, issue, triggered_by, planned.notes, plan_only)
    async with ctx.sessions() as session, session.begin():
        # The plan as `issuewright plan --json` shows it, kept to explain what was planned.
        await record_stage(
            session,
            "planned",
            f"{len(plan.tasks)} task(s) for {repo.full_name}#{text.number}",
            data={"cause": cause, "plan_only": plan_only, "plan": planned.as_json()},
        )
    message = plan.decomposition.message
    if not plan.decomposition.too_many:
        await store_tasks(ctx, run_id, repo, plan, cause)
    if asked is not None:
        first = plan.tasks[0].task.key if plan.tasks else None
        await count_grouping(
            ctx,
            run_id,
            first,
            asked,
            cause,
            installation_id=repo.installation_id,
            provider=choice.provider if choice else None,
        )
    details = {
        tp.task.ordinal: {
            "files": tuple(tp.files),
            "template": f"{tp.template_id} v{tp.template_version}",
            "estimate_tokens": (tp.input_tokens, tp.output_tokens),
            "estimate_cost": tp.cost_usd,
        }
        for tp in plan.tasks
    }
    if not plan_only and not plan.decomposition.too_many:
        keys = [tp.task.key for tp in plan.tasks]
        await schedule_ready_tasks(ctx, run_id, cause, revive=keys)
    await publish_run(
        ctx,
        repo.api,
        run_id,
        plan=details if plan_only else None,
        message=message,
        plan_reason=plan_reason,
        model=planned.model,
        plan_notes=plan.decomposition.reasons,
    )
    if label_event is not None:
        # Only now is the event acted on: a job that died before this point runs it again
        # (every step above is idempotent) instead of ignoring it as a repeat.
        await record_label_event(ctx, run_id, label_event)
