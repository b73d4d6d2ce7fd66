"""LLM spending limits, decided before a call is made (pure: no I/O, no clock).

A call is refused when the spend so far plus the call's estimated cost would pass a cap, so a
budget is never exceeded by more than the estimate's error. The estimate counts the prompt
from its length (tiktoken cannot download its encodings here) and assumes the answer may use
all of `max_tokens`, which errs on the side of stopping early.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.core.repo_config import CONFIG_PATH

# Rough but stable: English prose and code average three to four characters per token for
# GPT and Claude tokenizers; four slightly undercounts code, which max_tokens covers.
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """Tokens in `text`, estimated from its length (real counts come from provider usage)."""
    if not text:
        return 0
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_call_cost(
    prompt_tokens: int, max_output_tokens: int, input_per_mtok: float, output_per_mtok: float
) -> float:
    """Worst-case USD for one call: the whole prompt plus an answer as long as allowed."""
    return (prompt_tokens * input_per_mtok + max_output_tokens * output_per_mtok) / 1_000_000


@dataclass(frozen=True)
class CallReserve:
    """What the budget gate reserves for one call before it is made."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None: no price (no model, or one the price table does not know)


def reserve_call(
    prompts: Iterable[str], max_output_tokens: int, price: tuple[float, float] | None
) -> CallReserve:
    """The prompt's tokens estimated from its length, and `max_output_tokens` for the answer
    however long it turns out, priced at `price` (USD per million input, output tokens).
    The budget gate checks a call with this, and the plan preview prices each task with it,
    so an estimate that fits a budget is a call the gate allows."""
    input_tokens = sum(estimate_tokens(text) for text in prompts)
    cost = None
    if price is not None:
        cost = estimate_call_cost(input_tokens, max_output_tokens, price[0], price[1])
    return CallReserve(input_tokens, max_output_tokens, cost)


class BudgetVerdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"  # allowed, but past the warning threshold: say so in the status comment
    REFUSE = "refuse"


@dataclass(frozen=True)
class BudgetDecision:
    verdict: BudgetVerdict
    message: str  # empty when there is nothing to tell anyone
    scope: Literal["task", "month"] | None = None  # which cap the verdict is about

    @property
    def allowed(self) -> bool:
        return self.verdict is not BudgetVerdict.REFUSE


def _usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"


def check_budget(
    estimated_cost: float,
    spent_task: float,
    task_cap: float | None,
    spent_month: float,
    month_cap: float | None,
    warn_ratio: float = 0.8,
) -> BudgetDecision:
    """Allow, warn or refuse one call. A cap of None means no limit at that level.

    The month is checked first: if it is exhausted, raising the task budget would not help,
    and the message must point at the setting that does.
    """
    estimated_cost = max(estimated_cost, 0.0)
    checks: list[tuple[Literal["task", "month"], float, float | None]] = [
        ("month", spent_month, month_cap),
        ("task", spent_task, task_cap),
    ]
    for scope, spent, cap in checks:
        if cap is not None and spent + estimated_cost > cap:
            return BudgetDecision(
                BudgetVerdict.REFUSE, _refusal(scope, spent, cap, estimated_cost), scope
            )
    for scope, spent, cap in checks:
        if cap is not None and cap > 0 and spent + estimated_cost >= cap * warn_ratio:
            return BudgetDecision(
                BudgetVerdict.WARN, _warning(scope, spent, cap, estimated_cost), scope
            )
    return BudgetDecision(BudgetVerdict.ALLOW, "")


def _setting(scope: Literal["task", "month"]) -> str:
    if scope == "task":
        return f"`task_budget_usd` in `{CONFIG_PATH}`"
    return (
        f"`monthly_budget_usd` in `{CONFIG_PATH}` (the server's "
        "INSTALLATION_MONTHLY_BUDGET_USD sets the installation-wide default)"
    )


def _label(scope: Literal["task", "month"]) -> str:
    return "this task's" if scope == "task" else "this month's"


def _refusal(scope: Literal["task", "month"], spent: float, cap: float, estimate: float) -> str:
    return (
        f"Budget exceeded: the next LLM call (estimated {_usd(estimate)}) would bring "
        f"{_label(scope)} spend to {_usd(spent + estimate)}, over its {_usd(cap)} limit "
        f"({_usd(spent)} spent so far). To raise the limit, set {_setting(scope)}, "
        "then comment `/issuewright retry`."
    )


def _warning(scope: Literal["task", "month"], spent: float, cap: float, estimate: float) -> str:
    share = (spent + estimate) / cap
    return (
        f"Budget warning: {_label(scope)} LLM spend could reach {_usd(spent + estimate)} "
        f"of its {_usd(cap)} limit ({share:.0%}). To raise the limit, set {_setting(scope)}."
    )
