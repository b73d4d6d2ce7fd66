"""A model's grouping of an issue's items (`llm_plan`) is used only when it keeps the rules:
every open item placed once, nothing unknown, criteria stay criteria, done stays done, no
empty task, no cycle, at most max_tasks. Anything else is refused with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.plan_grouping import (
    MAX_ITEMS,
    Grouping,
    check_grouping,
    grouped_decomposition,
    grouping_input,
)

ISSUE = """Multiplication and division for calc.

## Tasks
- [ ] Add `mul(a, b)` to `calc/ops.py`
  - [ ] with a docstring like the others
- [ ] Add `div(a, b)` that raises on zero
- [ ] Add tests for `mul` and `div`
- [x] Export `sub` from `calc/__init__.py`
- [ ] Document `mul` and `div` in the README

## Acceptance criteria
- `mul(2, 3) == 6`
"""
# Items: 1 mul, 2 div, 3 tests, 4 export (done), 5 docs; 6 the criterion.


def given() -> Any:
    return grouping_input("Multiply and divide", ISSUE, [], 7)


def answer(*tasks: tuple[list[int], list[int]]) -> str:
    return json.dumps({"tasks": [{"items": i, "depends_on": d} for i, d in tasks]})


def test_the_items_are_numbered_with_their_role() -> None:
    items = given().items
    assert [(i.number, i.role) for i in items] == [
        (1, "open"),
        (2, "open"),
        (3, "open"),
        (4, "done"),
        (5, "open"),
        (6, "criterion"),
    ]
    assert "with a docstring" in items[0].text  # nested items belong to their item
    assert given().skip is None


def test_a_good_grouping_makes_the_tasks_with_criteria_and_skipped_items() -> None:
    text = answer(([1, 3], []), ([2], [1]), ([5], [1, 2]))
    grouping = check_grouping(text, given(), max_tasks=10)
    assert isinstance(grouping, Grouping)
    plan = grouped_decomposition(given(), grouping, "o/calc", 7, "gpt-4o-mini")
    assert [(t.ordinal, t.items, t.depends_on) for t in plan.tasks] == [
        (1, [1, 3], []),
        (2, [2], [1]),
        (5, [5], [1, 2]),
    ]
    first = plan.tasks[0]
    assert first.key == "o/calc#7/1" and first.title == "Add `mul(a, b)` to `calc/ops.py`"
    assert "Together with:\n- Add tests for `mul` and `div`" in first.body
    assert plan.tasks[2].type == "documentation"
    assert all(t.criteria == ["`mul(2, 3) == 6`"] for t in plan.tasks)
    assert plan.done == [4] and [s.ordinal for s in plan.skipped] == [4]
    assert plan.reasons[0].startswith("3 tasks: gpt-4o-mini grouped the 4 open items")
    assert "Task 1 also takes item 3 “Add tests for `mul` and `div`”." in plan.reasons


def test_the_model_names_numbers_only_its_other_words_are_dropped() -> None:
    text = json.dumps(
        {
            "tasks": [
                {"items": [1, 2, 3, 5], "depends_on": [], "title": "run `rm -rf /`"},
            ],
            "note": "@everyone see http://evil.example",
        }
    )
    grouping = check_grouping(text, given(), max_tasks=10)
    assert isinstance(grouping, Grouping)
    plan = grouped_decomposition(given(), grouping, "o/calc", 7, "m")
    [task] = plan.tasks
    assert task.title == "Add `mul(a, b)` to `calc/ops.py`"
    assert "rm -rf" not in task.body and "evil" not in " ".join(plan.reasons)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Sure! Here is the plan: task 1 …", "the answer is not JSON"),
        ('{"groups": [[1, 2, 3, 5]]}', "the answer is not the JSON asked for"),
        (answer(([1, 2, 3, "5"], [])), "the answer is not the JSON asked for"),  # type: ignore[list-item]
        (answer(([1, 2, 3, 5, 9], [])), "it names item 9, which the issue does not have"),
        (answer(([1, 2, 3, 5, 6], [])), "it makes criterion 6 (“`mul(2, 3) == 6`”) work"),
        (answer(([1, 2, 3, 5], []), ([4], [])), "it plans item 4 (“Export `sub`"),
        (answer(([1, 2, 3], []), ([3, 5], [])), "it places item 3 twice"),
        (answer(([1, 3], []), ([2], [])), "it leaves out item 5 (“Document `mul`"),
        (answer(([1, 2, 3, 5], []), ([], [])), "it has a task without items"),
        (answer(([1], []), ([2], []), ([3], []), ([5], [])), "it makes 4 tasks; the limit is 3"),
        (answer(([1, 3], [3]), ([2, 5], [])), "the task of item 1 depends on itself"),
        (answer(([1, 3], [2]), ([2, 5], [1])), "its dependencies form a cycle (tasks 1 → 2 → 1)"),
        (answer(([1, 3], [6]), ([2, 5], [])), "it makes criterion 6"),
        (answer(([1, 3], [12]), ([2, 5], [])), "it names a dependency on item 12"),
        ("[" * 100_000, "the answer is not JSON"),
    ],
    ids=[
        "prose",
        "other-shape",
        "not-a-number",
        "unknown-item",
        "criterion",
        "done-item",
        "twice",
        "missing",
        "empty-task",
        "too-many",
        "self",
        "cycle",
        "criterion-dependency",
        "unknown-dependency",
        "deep-nesting",
    ],
)
def test_each_broken_rule_refuses_the_grouping_with_its_reason(text: str, reason: str) -> None:
    refused = check_grouping(text, given(), max_tasks=3)
    assert isinstance(refused, str) and refused.startswith(reason), refused


@pytest.mark.parametrize(
    ("body", "skip"),
    [
        ("calc.add returns the difference.", "there are no open items"),
        ("## Tasks\n- [ ] Add `mul`\n- [x] Add `div`\n", "there is one open item"),
        ("## Tasks\n" + "".join(f"- [ ] Add op{n}\n" for n in range(MAX_ITEMS + 1)), "61 open"),
    ],
    ids=["whole-issue", "one-item", "too-many-items"],
)
def test_the_model_is_not_asked_when_there_is_nothing_to_group(body: str, skip: str) -> None:
    found = grouping_input("t", body, [], 1).skip
    assert found is not None and found.startswith(skip)
