"""A plan for an issue: its tasks, the files chosen for each, the prompt it would get, and
what that would cost. Shared by the app's plan preview, the codegen pipeline and
`issuewright plan`. CPU only: no GitHub or LLM call happens here."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.context import RepoMap, pack_context, rank_files
from bot.context.named import task_named_files
from bot.core.budget import reserve_call
from bot.core.decompose import Decomposition, PlannedTask, decompose
from bot.core.plan_grouping import GroupingOutcome, grouped_decomposition
from bot.llm.pricing import PricingTable
from bot.prompts.library import PromptLibrary
from bot.prompts.templates import RenderedPrompt
from bot.settings import RepoConfig


@dataclass(frozen=True)
class IssueText:
    repo: str
    number: int
    title: str
    body: str
    labels: Sequence[str] = ()


@dataclass(frozen=True)
class TaskPlan:
    task: PlannedTask
    files: list[str]
    slices: list[tuple[str, int, int]]
    context: str
    template_id: str
    template_version: int
    system: RenderedPrompt
    prompt: RenderedPrompt
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None: the model's price is unknown (local models)


@dataclass(frozen=True)
class Plan:
    issue: IssueText
    decomposition: Decomposition
    tasks: list[TaskPlan]
    model: str | None
    problems: list[str]  # prompt overrides that were not used, …

    @property
    def estimate(self) -> dict[str, Any]:
        known = [t.cost_usd for t in self.tasks if t.cost_usd is not None]
        return {
            "model": self.model,
            "input_tokens": sum(t.input_tokens for t in self.tasks),
            "output_tokens": sum(t.output_tokens for t in self.tasks),
            # One task at an unknown price makes the total unknown, not smaller.
            "cost_usd": round(sum(known), 6) if len(known) == len(self.tasks) else None,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "tasks": [
                {
                    "key": t.task.key,
                    "ordinal": t.task.ordinal,
                    "title": t.task.title,
                    "type": t.task.type,
                    "depends_on": list(t.task.depends_on),
                    "items": list(t.task.items),
                    "files": t.files,
                    "template": {"id": t.template_id, "version": t.template_version},
                    "estimate": {
                        "input_tokens": t.input_tokens,
                        "output_tokens": t.output_tokens,
                        "cost_usd": t.cost_usd,
                    },
                }
                for t in self.tasks
            ],
            "done": self.decomposition.done,
            "skipped": [
                {"ordinal": s.ordinal, "title": s.title, "reason": s.reason}
                for s in self.decomposition.skipped
            ],
            "criteria": self.decomposition.criteria,
            "reasons": self.decomposition.reasons,
            "message": self.decomposition.message,
            "estimate": self.estimate,
            "problems": self.problems,
        }


def task_query(issue: IssueText, task: PlannedTask) -> tuple[str, str]:
    """What the selector reads for one task: its own words first, then the issue's."""
    if task.body.strip() and task.body.strip() != issue.body.strip():
        return f"{task.title}\n{task.body}\n\n{issue.title}\n{issue.body}", task.title
    return f"{issue.title}\n{issue.body}", issue.title


def prompt_params(
    issue: IssueText,
    task: PlannedTask,
    all_tasks: Sequence[PlannedTask],
    context: str,
    config: RepoConfig,
) -> dict[str, Any]:
    # Ordinals count checked (done) items too, so keys stay stable; the prompt's "task N of M"
    # must count only the tasks to do, or the model reads "task 3 of 2".
    ordinals = [t.ordinal for t in all_tasks]
    position = ordinals.index(task.ordinal) + 1 if task.ordinal in ordinals else 1
    return {
        "repo": issue.repo,
        "issue_number": issue.number,
        "issue_title": issue.title,
        "issue_body": issue.body,
        "task_title": task.title,
        "task_body": task.body,
        "task_ordinal": position,
        "task_count": max(len(all_tasks), position),
        "other_tasks": [t.title for t in all_tasks if t.ordinal != task.ordinal],
        "criteria": list(task.criteria),
        "context": context,
        "repo_instructions": config.instructions or None,
    }


def render_system(library: PromptLibrary, repo: str, config: RepoConfig) -> RenderedPrompt:
    """The system prompt every attempt starts with: the rules, the edit format, the paths
    the repository denies."""
    return library.render("system", {"repo": repo, "denied_paths": list(config.denied_paths)})


def plan_task(
    issue: IssueText,
    task: PlannedTask,
    all_tasks: Sequence[PlannedTask],
    repo_map: RepoMap | None,
    library: PromptLibrary,
    config: RepoConfig,
    *,
    model: str | None,
    pricing: PricingTable | None = None,
    readme: str = "",
    ranked: list[tuple[str, float]] | None = None,
) -> TaskPlan:
    """`ranked`: a ranking made beforehand (e.g. reordered by the optional LLM step)."""
    files: list[str] = []
    slices: list[tuple[str, int, int]] = []
    context = ""
    if repo_map is not None:
        query, title = task_query(issue, task)
        if ranked is None:
            ranked = rank_files(repo_map, query, title=title)
        own = f"{task.title}\n{task.body}"
        others = [f"{t.title}\n{t.body}" for t in all_tasks if t.ordinal != task.ordinal]
        # The template shows the repository's instructions in their own section; the
        # context repeats them only for an override that leaves that section out.
        shown = "repo_instructions" in library.template(task.type).params
        packed = pack_context(
            repo_map,
            ranked,
            query,
            budget_tokens=config.context_budget_tokens,
            instructions="" if shown else config.instructions,
            title=title,
            named=task_named_files(repo_map, own, f"{issue.title}\n{issue.body}", others),
        )
        files, slices, context = list(packed.files), list(packed.slices), packed.text
    system = render_system(library, issue.repo, config)
    prompt = library.render(task.type, prompt_params(issue, task, all_tasks, context, config))
    # Priced as the budget gate prices the call (bot/attempt/budget_guard.py): the messages
    # it sends and `max_output_tokens` reserved for the answer, not a typical answer.
    price = (pricing or PricingTable()).price(model) if model else None
    reserve = reserve_call(
        (system.text, prompt.text),
        config.max_output_tokens,
        (price.input_per_mtok, price.output_per_mtok) if price and price.known else None,
    )
    return TaskPlan(
        task=task,
        files=files,
        slices=slices,
        context=context,
        template_id=prompt.template_id,
        template_version=prompt.version,
        system=system,
        prompt=prompt,
        input_tokens=reserve.input_tokens,
        output_tokens=reserve.output_tokens,
        cost_usd=reserve.cost_usd,
    )


def decomposition_of(
    issue: IssueText, config: RepoConfig, grouping: GroupingOutcome | None
) -> Decomposition:
    """The model's grouping when there is a valid one, else the rule-based plan, with the
    line that says why when a model was meant to group the items."""
    if grouping is not None and grouping.grouping is not None and grouping.given is not None:
        model = grouping.model or "the model"
        return grouped_decomposition(
            grouping.given, grouping.grouping, issue.repo, issue.number, model
        )
    ruled = decompose(
        issue.title,
        issue.body,
        list(issue.labels),
        issue.repo,
        issue.number,
        max_tasks=config.max_tasks_per_issue,
    )
    if grouping is None or not grouping.why:
        return ruled
    return dataclasses.replace(ruled, reasons=[grouping.why, *ruled.reasons])


def make_plan(
    issue: IssueText,
    repo_map: RepoMap | None,
    config: RepoConfig,
    *,
    model: str | None = None,
    overrides: Mapping[str, str] | None = None,
    pricing: PricingTable | None = None,
    grouping: GroupingOutcome | None = None,
) -> Plan:
    """`grouping`: what became of asking a model to group the items (`llm_plan`)."""
    decomposition = decomposition_of(issue, config, grouping)
    library = PromptLibrary(overrides)
    tasks = [] if decomposition.too_many else decomposition.tasks
    plans = [
        plan_task(issue, t, tasks, repo_map, library, config, model=model, pricing=pricing)
        for t in tasks
    ]
    # An override can pass validation with sample data and still fail on this issue's data;
    # it falls back per render, and people should hear about that too.
    problems = list(library.problems)
    for tp in plans:
        for rendered in (tp.system, tp.prompt):
            if rendered.problem and rendered.problem not in problems:
                problems.append(rendered.problem)
    return Plan(issue, decomposition, plans, model, problems)
