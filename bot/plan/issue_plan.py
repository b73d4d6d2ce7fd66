"""The plan of an issue as the app makes it, from what it reads of the repository at one
commit and the operator's settings: the one function the app (bot/plan/start.py) and
`issuewright plan` (bot/cli/plan.py) both call, so the preview cannot drift from the app.

Everything that decides the plan is derived here from the same inputs: the model (the
repository's choice among the operator's endpoints), its price (LLM_PRICING over the
built-in table), the limits (the repository's config under the operator's ceilings), the
prompt templates (the built-ins and the repository's overrides), the estimate (what the
budget gate reserves for each call) and the notes people are shown. CPU only: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.context import RepoMap
from bot.core.budget import check_budget
from bot.core.plan_grouping import GroupingOutcome
from bot.core.policy import Ceilings, LLMChoice
from bot.llm.pricing import PricingTable
from bot.plan.planner import IssueText, Plan, make_plan
from bot.repo.config import llm_choice
from bot.settings import CONFIG_PATH, RepoConfig, Settings


@dataclass(frozen=True)
class RepoContent:
    """What planning reads from a repository: its config (already narrowed to the operator's
    policy by `load_repo_config`) with the problems found in it, its code map and prompt
    overrides at the commit work starts from, and anything else to tell people."""

    config: RepoConfig
    config_problems: Sequence[str] = ()
    repo_map: RepoMap | None = None
    overrides: Mapping[str, str] = dataclasses.field(default_factory=dict)
    problems: Sequence[str] = ()  # e.g. the base branch is missing


@dataclass(frozen=True)
class IssuePlan:
    plan: Plan
    choice: LLMChoice | None  # None: no LLM for this repository (plan-only mode)
    limits: dict[str, Any]
    notes: list[str]  # config problems, unused overrides, calls the gate would refuse

    @property
    def model(self) -> str | None:
        return self.choice.model if self.choice else None

    def as_json(self) -> dict[str, Any]:
        result = self.plan.as_json()
        result["problems"] = list(self.notes)
        result["limits"] = dict(self.limits)
        return result


def limits_of(config: RepoConfig) -> dict[str, Any]:
    """Every limit a repository may set, as it applies (under the operator's ceilings)."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(Ceilings)}


def config_notes(problems: Sequence[str]) -> list[str]:
    # Name the file: "unknown key `x` ignored" alone does not say where to fix it.
    return [p if CONFIG_PATH in p else f"`{CONFIG_PATH}`: {p}" for p in problems]


def budget_notes(plan: Plan, config: RepoConfig, pricing: PricingTable) -> list[str]:
    """What the budget gate would say before any call: the model has no price (every call is
    refused), or a task's first call alone is over the task budget."""
    model = plan.model
    if model is None:
        return []
    if not pricing.price(model).known:
        return [
            f"The model `{model}` has no price on this server, so the app refuses to call it: "
            f"the operator adds LLM_PRICING={model}:USD_PER_MTOK_IN:USD_PER_MTOK_OUT (`0:0` "
            "for a free local model)."
        ]
    over = [
        t
        for t in plan.tasks
        if t.cost_usd is not None
        and not check_budget(t.cost_usd, 0.0, config.task_budget_usd, 0.0, None).allowed
    ]
    if not over:
        return []
    which = ", ".join(str(t.task.ordinal) for t in over[:5]) + (" …" if len(over) > 5 else "")
    most = max(t.cost_usd or 0.0 for t in over)
    return [
        f"The budget gate would refuse task{'s' if len(over) > 1 else ''} {which}: a call is "
        f"estimated at up to ${most:.4f} (the prompt and `max_output_tokens` "
        f"{config.max_output_tokens:,} reserved for the answer), over `task_budget_usd` "
        f"${config.task_budget_usd:.2f}. Raise `task_budget_usd`, or lower "
        f"`max_output_tokens` or `context_budget_tokens`, in `{CONFIG_PATH}`."
    ]


def plan_issue(
    issue: IssueText,
    content: RepoContent,
    settings: Settings,
    grouping: GroupingOutcome | None = None,
) -> IssuePlan:
    """The app's plan of `issue` (see the module's docstring); `grouping` is what became of
    asking the model to group the items when the repository sets `llm_plan`
    (bot/plan/llm_plan.py), None when it does not."""
    config = content.config
    choice = llm_choice(config, settings)
    pricing = PricingTable(settings.llm_pricing_overrides)  # the operator's prices win
    plan = make_plan(
        issue,
        content.repo_map,
        config,
        model=choice.model if choice else None,
        overrides=content.overrides,
        pricing=pricing,
        grouping=grouping,
    )
    notes = [
        *config_notes(content.config_problems),
        *content.problems,
        *plan.problems,
        *budget_notes(plan, config, pricing),
    ]
    return IssuePlan(plan, choice, limits_of(config), list(dict.fromkeys(notes)))
