"""The decomposition rules of issue 14, each on the shape of a real issue
(tests/fixtures/issues/, sources in its README) or the issue's own example."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.checklist import tick_task_item
from bot.core.decompose import decompose
from bot.core.task_types import issue_type, reports_defect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "issues"


def body(name: str) -> str:
    return (FIXTURES / f"{name}.md").read_text(encoding="utf-8")


FLASK_LIKE = """\
- [ ] add `flask routes --json`
- [ ] add tests in `tests/test_cli.py`
- [ ] document it in `docs/cli.rst` and `CHANGES.rst`
"""


def test_tests_and_docs_of_a_change_are_in_that_changes_task() -> None:
    result = decompose("Machine-readable routes", FLASK_LIKE, [], "o/r", 1)
    [task] = result.tasks
    assert task.title == "add `flask routes --json`" and task.items == [1, 2, 3]
    assert "tests/test_cli.py" in task.body and "CHANGES.rst" in task.body
    assert any("joins task 1" in line and "tests" in line for line in result.reasons)
    assert any("joins task 1" in line and "docs" in line for line in result.reasons)


def test_a_templates_test_and_doc_items_join_the_implementation() -> None:
    result = decompose("Parameter checklist", body("deeprank2-146"), [], "o/r", 1)
    assert [t.items for t in result.tasks] == [[1, 2, 3, 4]]


def test_a_follow_up_with_its_own_order_stays_a_dependent_task() -> None:
    text = "- [ ] Add the export command\n- [ ] Document the export command, after 1\n"
    result = decompose("Export", text, [], "o/r", 1)
    assert [(t.ordinal, t.depends_on) for t in result.tasks] == [(1, []), (2, [1])]
    assert any("gives its own order" in line for line in result.reasons)


def test_docs_with_no_change_to_follow_stand_alone() -> None:
    result = decompose("Docs", body("go-oscal-91"), ["documentation"], "o/r", 1)
    assert len(result.tasks) == 2
    assert all(t.type == "documentation" for t in result.tasks)


def test_sub_items_belong_to_their_item_and_checked_items_are_skipped() -> None:
    result = decompose("1.0 release", body("algokit-cli-223"), [], "o/r", 1)
    assert [t.title for t in result.tasks] == [
        "Smart contract development tutorial",
        "Creating a template documentation",
    ]
    assert [(s.ordinal, s.title, s.reason) for s in result.skipped][:2] == [
        (1, "Utils documentation", "done"),
        (3, "Mental model diagram", "done"),
    ]
    assert any(line.startswith("Skipped: 4 items") for line in result.reasons)


def test_a_roadmaps_nested_items_are_no_tasks_of_their_own() -> None:
    roadmap = (
        "## Roadmap\n1. Parser\n   - [ ] tokenizer\n   - [ ] grammar\n"
        "2. CLI\n   - [ ] flags\n   - [x] help text\n"
    )
    result = decompose("Roadmap", roadmap, [], "o/r", 1)
    assert [t.title for t in result.tasks] == ["Parser", "CLI"]
    assert "- [ ] tokenizer" in result.tasks[0].body


def test_criteria_are_carried_by_every_task_and_are_no_tasks() -> None:
    text = (
        "## Tasks\n- [ ] Add the login form\n- [ ] Add the session store\n\n"
        "## Acceptance criteria\n- [ ] Passwords are securely hashed\n"
        "- [ ] Sessions expire after 8 hours\n"
    )
    result = decompose("Login", text, [], "o/r", 1)
    assert [t.title for t in result.tasks] == ["Add the login form", "Add the session store"]
    for task in result.tasks:
        assert task.criteria == ["Passwords are securely hashed", "Sessions expire after 8 hours"]
    assert any(line.startswith("Criteria, not tasks: 2 items") for line in result.reasons)


def test_acceptance_criteria_alone_make_one_task_that_carries_them() -> None:
    result = decompose("Milestones", body("proxystate-38"), ["documentation"], "o/r", 1)
    [task] = result.tasks
    assert len(task.criteria) == 6 and task.criteria[0].startswith("Milestones 6-15 exist")


def test_a_template_with_every_box_ticked_is_still_one_task() -> None:
    # Issue 14: such a report got 0 tasks, and the app did nothing.
    result = decompose("Rewrite crash", body("pytest-13776"), [], "o/r", 1)
    assert len(result.tasks) == 1 and result.source == "whole_issue"
    assert any("declarations or report details" in line for line in result.reasons)


def test_a_forms_purpose_checkboxes_and_instructions_are_no_tasks() -> None:
    result = decompose("Bug report", body("youtube-dl-20287"), [], "o/r", 1)
    assert len(result.tasks) == 1


def test_a_bug_report_is_one_task_unless_it_has_a_work_section() -> None:
    report = body("flask-3026")
    assert len(decompose("dotenv traceback", report, [], "o/r", 1).tasks) == 1
    planned = report + "\n## Tasks\n- [ ] Load .env lazily\n- [ ] Warn when dotenv is missing\n"
    assert len(decompose("dotenv traceback", planned, [], "o/r", 1).tasks) == 2


def test_an_example_list_is_no_plan() -> None:
    result = decompose("Nested checklists", body("gitjournal-161"), [], "o/r", 1)
    assert len(result.tasks) == 1 and result.tasks[0].title == "Nested checklists"


def test_every_plan_says_why_in_one_line_per_decision() -> None:
    for name in ("chatgpt-1308", "algokit-cli-223", "maelstrom-377", "taskr-12"):
        result = decompose("t", body(name), [], "o/r", 1)
        assert result.reasons and all("\n" not in line for line in result.reasons)
    assert decompose("t", "", [], "o/r", 1).reasons[0].startswith("One task:")


def test_ticking_a_merged_task_ticks_the_items_that_joined_it() -> None:
    text = body("deeprank2-146")
    ticked = tick_task_item(text, 1)
    assert ticked is not None
    assert ticked.count("- [x]") == 4 and "- [ ]" not in ticked
    assert tick_task_item(ticked, 1) is None


def test_template_choice_labels_then_shape_then_title() -> None:
    # Shape before the title's verb: a wrong result is a bug, whatever verb starts the title.
    sympy = decompose(
        "simplify() returns wrong result when applied to a certain trigonometric expression",
        body("sympy-20430"),
        [],
        "o/r",
        1,
    )
    assert sympy.tasks[0].type == "bug_fix"
    assert issue_type("Simplify returns incorrect result with trig functions", "") == "bug_fix"
    assert issue_type("Refactor storage layer", "") == "refactor"
    assert not reports_defect("Improve error messages")
    assert issue_type("Simplify the loader", "", bug_report=True) == "bug_fix"
    # A conventional prefix is the author's word: "bugs" in a feature title is its subject.
    assert not reports_defect("FEAT: Add checklists to bugs and feature PRs")
    # Labels come first: an enhancement label wins over a title that says "bugreport".
    diffpy = decompose(
        "bugreport - add button for traceback search",
        body("diffpy-pdfgui-9"),
        ["enhancement"],
        "o/r",
        1,
    )
    assert {t.type for t in diffpy.tasks} == {"feature"}


def test_docs_of_several_changes_stand_alone_after_each_of_them() -> None:
    text = (
        "## Tasks\n- [ ] Add `mul(a, b)` to `calc/ops.py`\n- [ ] Add `div(a, b)`\n"
        "- [ ] Document `mul` and `div` in the README\n"
    )
    result = decompose("Multiply and divide", text, [], "o/r", 1)
    assert [(t.ordinal, t.depends_on) for t in result.tasks] == [(1, []), (2, []), (3, [1, 2])]


def test_a_templates_hidden_note_does_not_hide_a_bug_report() -> None:
    report = (
        "<!-- Not a bug? For a feature request, use the feature template. -->\n"
        "### Steps to reproduce\n1. Run `calc add 2 3`\n\n"
        "- [ ] Add a retry\n- [ ] Log the error\n"
    )
    result = decompose("calc add prints -1", report, [], "o/r", 1)
    assert len(result.tasks) == 1 and result.tasks[0].type == "bug_fix"


def test_grouping_reads_each_items_words_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core import grouping

    calls = [0]
    real = grouping.content_words

    def counting(text: str) -> set[str]:
        calls[0] += 1
        return real(text)

    monkeypatch.setattr(grouping, "content_words", counting)
    body = "## Tasks\n" + "".join(
        f"- [ ] Add operation {n} and its helper\n- [ ] Add tests for operation {n}\n"
        for n in range(300)
    )
    result = decompose("Operations", body, [], "o/r", 1, max_tasks=1000)
    assert len(result.tasks) == 300
    assert calls[0] <= 3 * 600  # not once per pair of items


def test_a_lead_in_sentence_under_a_work_heading_keeps_the_list_work() -> None:
    text = "## Tasks\nIn this order:\n\n1. Add the model\n2. Add the API\n"
    result = decompose("Models", text, [], "o/r", 1)
    assert [(t.title, t.depends_on) for t in result.tasks] == [
        ("Add the model", []),
        ("Add the API", [1]),
    ]
