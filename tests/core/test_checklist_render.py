"""Ticking a task's checklist item and rendering what people see."""

from __future__ import annotations

import pytest

from bot.core.checklist import tick_task_item
from bot.core.commands import retry_checkboxes
from bot.core.decompose import decompose
from bot.core.render import (
    STATUS_MARKER,
    PullRequestView,
    StatusView,
    TaskView,
    render_pr_body,
    render_status,
)

BODY = (
    "Intro text\r\n"
    "- [x] done already\r\n"
    "- [ ] second 🚀\r\n"
    "  - [ ] nested detail\r\n"
    "- [ ] third\r\n"
    "```\r\n- [ ] in a fence\r\n```\r\n"
    "<!--\r\n- [ ] in a comment\r\n-->\r\n"
)


@pytest.mark.parametrize("ordinal", [2, 3])
def test_ticks_exactly_the_item_decompose_numbered(ordinal: int) -> None:
    tasks = {t.ordinal: t for t in decompose("t", BODY, [], "o/r", 1).tasks}
    ticked = tick_task_item(BODY, ordinal)
    assert ticked is not None
    changed = [
        (a, b) for a, b in zip(BODY.split("\r\n"), ticked.split("\r\n"), strict=True) if a != b
    ]
    assert len(changed) == 1
    before, after = changed[0]
    assert tasks[ordinal].title in before and after == before.replace("[ ]", "[x]", 1)


def test_ticking_leaves_checked_missing_and_fenced_items_alone() -> None:
    assert tick_task_item(BODY, 1) is None  # already ticked
    assert tick_task_item(BODY, 4) is None  # no fourth top-level item
    assert tick_task_item("no list here", 1) is None


def test_status_shows_rows_retry_boxes_and_spend() -> None:
    view = StatusView(
        tasks=[
            TaskView(
                1,
                "Fix add",
                "bug_fix",
                "pr_open",
                pr_url="https://github.com/o/r/pull/5",
                pr_number=5,
                input_tokens=1000,
                output_tokens=200,
                cost_usd=0.0123,
            ),
            TaskView(
                2,
                "Add tests | pipes",
                "test",
                "failed",
                last_error="the model's edits could not apply",
            ),
        ],
        notes=("unknown key `foo` ignored",),
    )
    text = render_status(view)
    assert text.startswith(STATUS_MARKER)
    assert "[#5](https://github.com/o/r/pull/5)" in text and "Add tests \\| pipes" in text
    assert retry_checkboxes(text) == {2: False}
    assert "could not apply" in text and "unknown key `foo`" in text and "$0.01" in text


def test_plan_view_lists_files_templates_and_estimates_without_retry_boxes() -> None:
    view = StatusView(
        tasks=[
            TaskView(
                1,
                "Fix add",
                "bug_fix",
                "planned",
                files=("calc/ops.py",),
                template="bug_fix v1",
                estimate_tokens=(3000, 1500),
                estimate_cost=None,
            )
        ],
        plan_only=True,
        plan_reason="No LLM is configured.",
    )
    text = render_status(view)
    assert (
        "Plan only" in text
        and "`calc/ops.py`" in text
        and "bug_fix v1" in text
        and "3,000 / 1,500" in text
    )
    assert retry_checkboxes(text) == {}


def test_pr_body_counts_come_from_the_diff_and_closes_only_when_asked() -> None:
    base = dict(
        task_title="Fix add",
        task_body="Fix add",
        issue_number=7,
        summary="Made add add.",
        files=[("calc/ops.py", 1, 1)],
        input_tokens=10,
        output_tokens=5,
        cost_usd=0.0,
        model="m",
        template_id="bug_fix",
        template_version=1,
        task_key="o/r#7/1",
    )
    last = render_pr_body(PullRequestView(**base, closes_issue=True))  # type: ignore[arg-type]
    other = render_pr_body(PullRequestView(**base, closes_issue=False))  # type: ignore[arg-type]
    assert "| `calc/ops.py` | 1 | 1 |" in last and "Closes #7" in last
    assert "Closes #" not in other and "task=o/r#7/1" in other


def test_pr_body_lists_the_issues_criteria_as_an_inert_checklist() -> None:
    view = PullRequestView(
        task_title="Fix add",
        task_body="Fix add",
        issue_number=7,
        summary="",
        files=[("calc/ops.py", 1, 1)],
        input_tokens=1,
        output_tokens=1,
        cost_usd=0.0,
        model="m",
        template_id="bug_fix",
        template_version=1,
        task_key="o/r#7/1",
        closes_issue=False,
        criteria=["add(2, 3) returns 5", "ping @maintainers when #3 is done"],
    )
    body = render_pr_body(view)
    assert "### Acceptance criteria" in body and "- [ ] add(2, 3) returns 5\n" in body
    assert "@maintainers" not in body and "#3" not in body  # third-party text stays inert
    assert "### Acceptance criteria" not in render_pr_body(
        PullRequestView(**{**view.__dict__, "criteria": ()})
    )


def test_plan_preview_says_why_the_issue_was_split() -> None:
    notes = ("2 tasks: each open task-list item …", "Item 3 “Add tests” joins task 1: …")
    view = StatusView(
        tasks=[TaskView(1, "Add mul", "feature", "planned")], plan_only=True, plan_notes=notes
    )
    text = render_status(view)
    assert "**Why this plan**\n- 2 tasks: each open task-list item …\n- Item 3" in text
    running = StatusView(tasks=view.tasks, plan_notes=notes)  # not a preview: progress only
    assert "Why this plan" not in render_status(running)
