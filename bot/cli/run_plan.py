"""How `issuewright run` plans: the app's plan (bot/plan/issue_plan.py) of the checkout at
the run's base commit, with `llm_plan` as the app takes it (bot/plan/llm_plan.py).

The base commit is HEAD when a run starts and is kept in its record, so a resumed run plans
from and branches off the same commit even after HEAD moved. With `llm_plan`, the plan shown
first is the rule-based one with a line saying the model will be asked; once the user said
yes, the model groups the items in one call gated by the run's `--max-usd` and counted in
its cost; what became of it is recorded, so a resumed run gets the same tasks without a
second call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.cli.checkout import Checkout, load_checkout
from bot.cli.plan_llm import preview_grouping
from bot.cli.run_input import IssueInput, LocalRepo
from bot.core.plan_grouping import Grouping, GroupingInput, GroupingOutcome
from bot.core.policy import LLMChoice
from bot.llm.base import ChatMessage
from bot.llm.pricing import PricingTable
from bot.plan.issue_plan import IssuePlan, RepoContent, plan_issue
from bot.plan.llm_plan import ask_grouping, gate_reason, wanted
from bot.plan.planner import IssueText
from bot.repo.llm import llm_client
from bot.settings import CONFIG_PATH, RepoConfig, Settings, load_repo_config


@dataclass
class RunPlan:
    planned: IssuePlan
    config: RepoConfig
    checkout: Checkout
    base: str  # the commit planned from and branched off
    text: IssueText
    content: RepoContent
    ask: GroupingInput | None = None  # `llm_plan`: the model is still to be asked
    grouping: dict[str, Any] | None = None  # what became of asking it, for the record
    cost_usd: float = 0.0  # of the planning call


def plan_run(
    settings: Settings, repo: LocalRepo, issue: IssueInput, recorded: dict[str, Any] | None
) -> RunPlan:
    """The plan before any call; `recorded` is a resumed run's `issue` record."""
    base = str((recorded or {}).get("head") or repo.head)
    checkout = load_checkout(repo.root, cache_dir=settings.cache_dir, at=base)
    config, problems = load_repo_config(checkout.text(CONFIG_PATH), settings.policy)
    content = RepoContent(config, problems, checkout.repo_map, checkout.overrides)
    text = IssueText(checkout.name, 1, issue.title, issue.body, list(issue.labels))
    kept = (recorded or {}).get("grouping")
    ask: GroupingInput | None = None
    if kept is not None:
        outcome = _recorded_outcome(config, settings, text, kept)
    else:
        outcome, _ = preview_grouping(settings, config, text, ask=False)
        step = outcome.given if outcome is not None else None
        if outcome is not None and outcome.grouping is None and step is not None and not step.skip:
            ask = step
            why = (outcome.why or "").replace("add --llm to ask it here", "the run asks it first")
            outcome = replace(outcome, why=why)
    planned = plan_issue(text, content, settings, outcome)
    return RunPlan(planned, config, checkout, base, text, content, ask, kept)


def ask_model(
    run: RunPlan, settings: Settings, choice: LLMChoice, spent: float, max_usd: float
) -> RunPlan:
    """`llm_plan`'s call, gated by what is left of `--max-usd`; the plan it gives (or the
    rule-based one, with the why-line) and what it cost."""
    given = run.ask
    assert given is not None
    model = choice.model
    table = PricingTable(settings.llm_pricing_overrides)

    async def gate(messages: Sequence[ChatMessage], tokens: int) -> str | None:
        return gate_reason(messages, tokens, model, table, run.config, spent, max_usd)

    async def call() -> Any:
        client = llm_client(settings, choice)
        try:
            return await ask_grouping(client, run.text, given, run.config, model, gate)
        finally:
            await client.aclose()

    asked = asyncio.run(call())
    cost = 0.0
    if asked.response is not None:
        r = asked.response
        cost = table.cost_usd(model, r.input_tokens, r.output_tokens)
    outcome = asked.outcome
    grouping = {
        "model": outcome.model,
        "tasks": [list(map(list, t)) for t in outcome.grouping.tasks] if outcome.grouping else None,
        "why": outcome.why,
        "cost_usd": round(cost, 6),
    }
    planned = plan_issue(run.text, run.content, settings, outcome)
    return replace(run, planned=planned, ask=None, grouping=grouping, cost_usd=cost)


def _recorded_outcome(
    config: RepoConfig, settings: Settings, text: IssueText, kept: dict[str, Any]
) -> GroupingOutcome | None:
    step = wanted(config, kept.get("model"), text)
    if not isinstance(step, GroupingInput):
        return step.outcome if step is not None else None
    tasks = kept.get("tasks")
    grouping = Grouping([(list(a), list(b)) for a, b in tasks]) if tasks else None
    return GroupingOutcome(kept.get("model"), step, grouping=grouping, why=kept.get("why"))
