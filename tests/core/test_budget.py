"""Budgets are decided before a call, from an estimate, and say how to raise the limit."""

from __future__ import annotations

import pytest

from bot.core.budget import (
    BudgetVerdict,
    check_budget,
    estimate_call_cost,
    estimate_tokens,
)


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("abc", 1), ("abcd", 1), ("abcde", 2), ("x" * 4000, 1000)]
)
def test_estimate_tokens_is_length_over_four(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_estimate_call_cost_counts_the_whole_answer_allowance() -> None:
    # 10k prompt tokens at $3/MTok + 4k answer tokens at $15/MTok
    assert estimate_call_cost(10_000, 4_000, 3.0, 15.0) == pytest.approx(0.09)


def test_well_under_both_caps_is_allowed_quietly() -> None:
    decision = check_budget(0.05, spent_task=0.10, task_cap=2.0, spent_month=1.0, month_cap=50.0)
    assert decision.verdict is BudgetVerdict.ALLOW and decision.allowed and decision.message == ""


def test_crossing_the_warning_ratio_warns_but_allows() -> None:
    decision = check_budget(
        0.10, spent_task=1.55, task_cap=2.0, spent_month=0.0, month_cap=None, warn_ratio=0.8
    )
    assert decision.verdict is BudgetVerdict.WARN and decision.allowed
    assert decision.scope == "task"
    assert "$1.65 of its $2.00 limit (82%)" in decision.message
    assert "`task_budget_usd` in `.github/issuewright.yml`" in decision.message


def test_a_call_that_would_pass_the_task_cap_is_refused() -> None:
    decision = check_budget(0.30, spent_task=1.90, task_cap=2.0, spent_month=5.0, month_cap=50.0)
    assert decision.verdict is BudgetVerdict.REFUSE and not decision.allowed
    assert decision.scope == "task"
    assert "$2.20, over its $2.00 limit ($1.90 spent so far)" in decision.message
    assert "`task_budget_usd`" in decision.message and "/issuewright retry" in decision.message


def test_reaching_the_cap_exactly_is_allowed() -> None:
    assert check_budget(0.5, spent_task=1.5, task_cap=2.0, spent_month=0, month_cap=None).allowed


def test_the_month_is_checked_first_and_names_its_own_setting() -> None:
    # Both caps would be passed; raising the task budget alone would not help.
    decision = check_budget(1.0, spent_task=1.5, task_cap=2.0, spent_month=49.5, month_cap=50.0)
    assert decision.verdict is BudgetVerdict.REFUSE and decision.scope == "month"
    assert "`monthly_budget_usd` in `.github/issuewright.yml`" in decision.message
    assert "task_budget_usd" not in decision.message


def test_month_warning() -> None:
    decision = check_budget(
        0.01, spent_task=0, task_cap=2.0, spent_month=45.0, month_cap=50.0, warn_ratio=0.9
    )
    assert decision.verdict is BudgetVerdict.WARN and decision.scope == "month"


def test_no_caps_means_no_limit() -> None:
    assert check_budget(1e6, 1e6, None, 1e6, None).verdict is BudgetVerdict.ALLOW


def test_a_zero_cap_still_allows_free_local_models_but_nothing_else() -> None:
    assert check_budget(0.0, 0.0, 0.0, 0.0, 0.0).verdict is BudgetVerdict.ALLOW
    assert check_budget(0.0001, 0.0, 0.0, 0.0, None).verdict is BudgetVerdict.REFUSE


def test_tiny_amounts_are_shown_with_enough_digits() -> None:
    decision = check_budget(0.002, spent_task=0.0, task_cap=0.001, spent_month=0, month_cap=None)
    assert "$0.0020" in decision.message and "$0.0010" in decision.message
