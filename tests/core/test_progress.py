"""When a generating task's row is edited, and what it says (core/progress.py)."""

from __future__ import annotations

from bot.core.progress import (
    PROGRESS_EDITS_PER_HOUR,
    PROGRESS_EDITS_PER_MINUTE,
    PROGRESS_INTERVAL,
    EditBudget,
    edit_due,
    elapsed_text,
    progress_text,
)


def test_an_edit_is_due_only_after_the_interval_and_with_new_tokens() -> None:
    assert edit_due(None, 0.0, 10, 0)  # never edited: at once
    assert not edit_due(100.0, 119.9, 500, 10)  # 19.9 s after the last edit
    assert edit_due(100.0, 100.0 + PROGRESS_INTERVAL, 500, 10)
    assert not edit_due(100.0, 500.0, 10, 10)  # nothing new to say
    assert PROGRESS_INTERVAL == 20.0


def test_the_installation_budget_stays_within_a_quarter_of_githubs_limits() -> None:
    # GitHub: at most 80 content-generating requests a minute and 500 an hour.
    assert PROGRESS_EDITS_PER_MINUTE * 4 <= 80 and PROGRESS_EDITS_PER_HOUR * 4 <= 500
    budget = EditBudget(per_minute=3, per_hour=5)
    for t in (0.0, 1.0, 2.0):
        assert budget.allows(t)
        budget.spend(t)
    assert not budget.allows(59.0)  # three in the last minute
    assert budget.allows(60.0)  # the first one is a minute old
    budget.spend(60.0)
    budget.spend(120.0)
    assert not budget.allows(180.0)  # five this hour
    assert budget.allows(3600.0)  # the edit at 0 s is an hour old


def test_many_tasks_of_one_installation_share_its_budget() -> None:
    budget = EditBudget()
    made = 0
    for second in range(0, 60, 1):  # 30 tasks each due every 20 s: far more than allowed
        for _task in range(30):
            if second % 20 == 0 and budget.allows(float(second)):
                budget.spend(float(second))
                made += 1
    assert made == PROGRESS_EDITS_PER_MINUTE


def test_the_row_text_says_tokens_so_far_and_elapsed_time() -> None:
    assert progress_text(1234, 80) == "1,234 tokens so far, 1 m 20 s"
    assert progress_text(1, 5.7) == "1 token so far, 5 s"
    assert elapsed_text(3725) == "1 h 2 m"
    assert elapsed_text(-1) == "0 s"
