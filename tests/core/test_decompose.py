"""Decomposition table: bodies shaped like real GitHub issues → the tasks people expect."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.core.decompose import TASK_TYPES, decompose


@dataclass
class Case:
    id: str
    body: str
    title: str = "Improve the CLI"
    labels: list[str] = field(default_factory=list)
    source: str = "task_list"
    # (ordinal, title, type, depends_on) for every task, in order
    tasks: list[tuple[int, str, str, list[int]]] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)


BUG_TEMPLATE = """\
### Describe the bug

Running `sample load` on an empty file crashes.

### Steps to reproduce

1. Create an empty `config.yml`
2. Run `sample load config.yml`
3. See the traceback

### Expected behavior

An empty config means default settings.

### Environment

- OS: Ubuntu 24.04
- Python: 3.11.9
- sample: 2.3.0

### Checklist

- [X] I have searched the existing issues
- [X] I agree to follow this project's Code of Conduct
- [ ] I'm willing to submit a PR
"""

FEATURE_TEMPLATE = """\
**Is your feature request related to a problem? Please describe.**
I always have to pipe the output through `jq`.

**Describe the solution you'd like**
A `--json` flag on `sample plan`.

**Describe alternatives you've considered**
- A separate `sample plan-json` command
- An environment variable

**Additional context**
- [x] I have read the documentation
- [ ] I would like to work on this
"""

PYTEST_TEMPLATE = """\
Rewriting fails when the first expression of a file is a number.

- [x] a detailed description of the bug or problem you are having
- [x] output of `pip list` from the virtual environment you are using
- [x] pytest and operating system versions
- [ ] minimal example if possible

```
  File "/usr/lib/python3.11/site-packages/_pytest/assertion/rewrite.py", line 758
    return "PYTEST_DONT_REWRITE" in docstring
TypeError: argument of type 'int' is not iterable
```
"""

CASES: list[Case] = [
    Case(
        "plain task list",
        "We need a few things:\n\n- [ ] Add a `--json` flag\n- [ ] Refactor argument parsing\n"
        "- [ ] Document the new flag in the README\n",
        # Issue 14: documenting the flag is part of the flag's task, not a PR of its own.
        tasks=[
            (1, "Add a `--json` flag", "feature", []),
            (2, "Refactor argument parsing", "refactor", []),
        ],
    ),
    Case(
        "checked items keep their ordinals",
        "- [x] Add the plan command\n- [ ] Add tests for the plan command\n- [X] Fix typo\n"
        "- [ ] Write docs for plan\n",
        tasks=[
            (2, "Add tests for the plan command", "test", []),
            (4, "Write docs for plan", "documentation", []),
        ],
        done=[1, 3],
    ),
    Case(
        "nested items belong to their parent",
        "## Tasks\n- [ ] Build the parser\n  - [ ] tokenizer\n  - [x] grammar\n    - detail\n"
        "- [ ] Wire the parser into the CLI\n",
        tasks=[
            (1, "Build the parser", "implementation", []),
            (2, "Wire the parser into the CLI", "implementation", []),
        ],
    ),
    Case(
        "task items nested under plain bullets",
        "- Backend\n  - [ ] Add the endpoint\n  - [ ] Add migrations\n- Frontend\n"
        "  - [ ] Add the settings page\n",
        tasks=[
            (1, "Add the endpoint", "feature", []),
            (2, "Add migrations", "feature", []),
            (3, "Add the settings page", "feature", []),
        ],
    ),
    Case(
        "all items checked: nothing left",
        "- [x] Add the flag\n- [x] Document it\n",
        tasks=[],
        done=[1, 2],
    ),
    Case(
        "prose bug report with numbered reproduction steps",
        "When I run `sample load` on an empty file it crashes.\n\nSteps to reproduce:\n"
        "1. Create an empty file\n2. Run `sample load empty.yml`\n3. Boom\n\n"
        "Expected: defaults.\nActual: TypeError.\n",
        title="sample load crashes on empty file",
        source="whole_issue",
        tasks=[(1, "sample load crashes on empty file", "bug_fix", [])],
    ),
    Case(
        "filled-in bug form: confirmations are not tasks",
        BUG_TEMPLATE,
        title="[Bug]: crash on empty config",
        labels=["bug", "needs triage"],
        source="whole_issue",
        tasks=[(1, "[Bug]: crash on empty config", "bug_fix", [])],
    ),
    Case(
        "filled-in feature template",
        FEATURE_TEMPLATE,
        title="JSON output for plan",
        source="whole_issue",
        tasks=[(1, "JSON output for plan", "feature", [])],
    ),
    Case(
        "default bug template with bold pseudo-headings",
        "**Describe the bug**\nIt hangs.\n\n**To Reproduce**\nSteps to reproduce the behavior:\n"
        "1. Go to '...'\n2. Click on '....'\n3. See error\n\n**Expected behavior**\n"
        "No hang.\n\n**Desktop (please complete the following information):**\n"
        " - OS: iOS\n - Browser: chrome\n",
        title="UI hangs on save",
        source="whole_issue",
        tasks=[(1, "UI hangs on save", "bug_fix", [])],
    ),
    Case(
        "CRLF line endings",
        "## Tasks\r\n- [ ] Add retries\r\n- [ ] Add a timeout\r\n",
        tasks=[(1, "Add retries", "feature", []), (2, "Add a timeout", "feature", [])],
    ),
    Case(
        "emoji in headings and items",
        "## ✅ Tasks\n- [ ] 🚀 Add release workflow docs\n- [ ] 🐛 Fix crash on start 💥\n",
        tasks=[
            (1, "🚀 Add release workflow docs", "documentation", []),
            (2, "🐛 Fix crash on start 💥", "bug_fix", []),
        ],
    ),
    Case(
        "task items inside code fences do not count",
        "Template example:\n\n```markdown\n- [ ] not a task\n```\n\n~~~\n- [ ] nor this\n~~~\n\n"
        "- [ ] Support tilde fences\n",
        tasks=[(1, "Support tilde fences", "feature", [])],
    ),
    Case(
        "task items inside HTML comments do not count",
        "<!-- Please fill in:\n- [ ] template item\n-->\n- [ ] Add caching\n"
        "<!-- - [ ] hidden --> \n",
        tasks=[(1, "Add caching", "feature", [])],
    ),
    Case(
        "unterminated HTML comment hides the rest",
        "- [ ] Add caching\n\n<!--\n- [ ] never shown on GitHub\n",
        tasks=[(1, "Add caching", "feature", [])],
    ),
    Case(
        "traceback outside fences is not a task",
        'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\n'
        "    main()\nValueError: bad value\n",
        title="ValueError in main",
        source="whole_issue",
        tasks=[(1, "ValueError in main", "bug_fix", [])],
    ),
    Case(
        "acceptance criteria heading, bullets",
        "As a user I want to log in.\n\n## Acceptance criteria\n\n* Users can log in with SSO\n"
        "* Sessions expire after 8 hours\n\n## Notes\n\n- Not in scope: MFA\n",
        title="Single sign-on",
        labels=["enhancement"],
        # Issue 14: acceptance criteria are criteria every task carries, not tasks.
        source="whole_issue",
        tasks=[(1, "Single sign-on", "feature", [])],
        criteria=["Users can log in with SSO", "Sessions expire after 8 hours"],
    ),
    Case(
        "numbered plan is sequential",
        "### Plan\n1. Extract the config loader\n2. Add schema validation\n"
        "3. Add tests for the loader\n",
        source="headed_list",
        # Issue 14: the loader's tests go with the loader's change.
        tasks=[
            (1, "Extract the config loader", "refactor", []),
            (2, "Add schema validation", "feature", [1]),
        ],
    ),
    Case(
        "setext heading and TODO",
        "TODO\n----\n\n- rename `util` to `helpers`\n- drop Python 3.8\n",
        source="headed_list",
        tasks=[
            (1, "rename `util` to `helpers`", "refactor", []),
            (2, "drop Python 3.8", "implementation", []),
        ],
    ),
    Case(
        "colon pseudo-heading survives a lead-in sentence",
        "Tasks:\nWe need the following.\n\n1. Add the model\n2. Add the API\n",
        source="headed_list",
        tasks=[(1, "Add the model", "feature", []), (2, "Add the API", "feature", [1])],
    ),
    Case(
        "steps to reproduce under a heading are not work",
        "## Steps to reproduce\n1. Open the app\n2. Click save\n\n## Expected behaviour\n"
        "- It saves\n",
        title="Save button broken",
        source="whole_issue",
        tasks=[(1, "Save button broken", "bug_fix", [])],
        criteria=["It saves"],
    ),
    Case(
        "environment checkboxes are choices, not tasks",
        "### Which browsers are affected?\n- [x] Chrome\n- [ ] Firefox\n\n### Version\n"
        "- [ ] 1.x\n- [x] 2.x\n",
        title="Layout breaks on narrow screens",
        source="whole_issue",
        tasks=[(1, "Layout breaks on narrow screens", "implementation", [])],
    ),
    Case(
        "explicit dependencies",
        "- [ ] Add the database table\n- [ ] Add the repository class (after 1)\n"
        "- [ ] Add the endpoint, depends on task 2\n- [ ] Add docs; blocked by step 3\n",
        tasks=[
            (1, "Add the database table", "feature", []),
            (2, "Add the repository class (after 1)", "feature", [1]),
            (3, "Add the endpoint, depends on task 2", "feature", [2]),
            (4, "Add docs; blocked by step 3", "documentation", [3]),
        ],
    ),
    Case(
        "issue references and durations are not dependencies",
        "- [ ] Retry after 2 seconds\n- [ ] Port the fix (after #1)\n- [ ] Needs the refactor\n",
        tasks=[
            (1, "Retry after 2 seconds", "implementation", []),
            (2, "Port the fix (after #1)", "bug_fix", []),
            (3, "Needs the refactor", "refactor", []),
        ],
    ),
    Case(
        "dependency cycle is broken",
        "- [ ] Add A (after 2)\n- [ ] Add B (after 1)\n",
        tasks=[(1, "Add A (after 2)", "feature", [2]), (2, "Add B (after 1)", "feature", [])],
    ),
    Case(
        "dependency on a done item is dropped",
        "- [x] Add the table\n- [ ] Add the API (after 1)\n",
        tasks=[(2, "Add the API (after 1)", "feature", [])],
        done=[1],
    ),
    Case(
        "ordered task list is sequential, skipping done items",
        "1. [ ] Write migration\n2. [x] Review schema\n3. [ ] Backfill data\n",
        tasks=[
            (1, "Write migration", "implementation", []),
            (3, "Backfill data", "implementation", [1]),
        ],
        done=[2],
    ),
    Case(
        "labels decide the type",
        "- [ ] Handle the empty file\n- [ ] Add a regression test\n",
        labels=["type: bug"],
        # Issue 14: the regression test is part of the fix, not a PR without it.
        tasks=[(1, "Handle the empty file", "bug_fix", [])],
    ),
    Case(
        "several labels: the words choose between them",
        # Docs that follow up nothing are their own task (docs of the fix would join it).
        "- [ ] Update the install docs\n- [ ] Fix the parser\n",
        labels=["bug", "documentation", "good first issue"],
        tasks=[
            (1, "Update the install docs", "documentation", []),
            (2, "Fix the parser", "bug_fix", []),
        ],
    ),
    Case(
        "tracking list of issue references",
        "Tracking:\n- [ ] #12\n- [ ] octo/other#3\n- [x] https://github.com/octo/r/pull/9\n",
        title="Refactor storage layer",
        source="whole_issue",
        tasks=[(1, "Refactor storage layer", "refactor", [])],
    ),
    Case(
        "block quotes are not tasks",
        "> - [ ] quoted from another issue\n\n- [ ] Add the flag\n",
        tasks=[(1, "Add the flag", "feature", [])],
    ),
    Case(
        "indented code block is not a list",
        "Example:\n\n    - [ ] code sample\n\n- [ ] Add the example to the docs\n",
        tasks=[(1, "Add the example to the docs", "documentation", [])],
    ),
    Case(
        "zero-width characters do not hide a checkbox",
        "- [\u200b ] Add the flag\n- [ ] Add the option\u200b\n",
        tasks=[(1, "Add the flag", "feature", []), (2, "Add the option", "feature", [])],
    ),
    Case(
        "empty body: the title is the task",
        "",
        title="docs: explain the retry command",
        source="whole_issue",
        tasks=[(1, "docs: explain the retry command", "documentation", [])],
    ),
    Case(
        "conventional prefix in the title",
        "It would be nice to export the plan.",
        title="feat(cli): export plan as JSON",
        source="whole_issue",
        tasks=[(1, "feat(cli): export plan as JSON", "feature", [])],
    ),
    Case(
        "two work sections, ordinals continue",
        "## Tasks\n- rename the module\n\n## Notes\nsome prose\n\n## Next steps\n"
        "- publish a release\n",
        source="headed_list",
        tasks=[
            (1, "rename the module", "refactor", []),
            (2, "publish a release", "implementation", []),
        ],
    ),
    Case(
        "lazy continuation lines stay with their item",
        "- [ ] Add the cache\nwith a TTL of one hour\n- [ ] Add metrics\n",
        tasks=[(1, "Add the cache", "feature", []), (2, "Add metrics", "feature", [])],
    ),
    Case(
        "pytest's report checklist is not a task list",
        PYTEST_TEMPLATE,
        title="Rewrite fails when first expression of file is a number",
        source="whole_issue",
        tasks=[(1, "Rewrite fails when first expression of file is a number", "bug_fix", [])],
    ),
    Case(
        "template checklist under a work-ish heading",
        "## Checklist\n- [x] I have read CONTRIBUTING.md\n- [ ] I've added tests\n"
        "- [ ] This is not a duplicate\n",
        title="Crash in exporter",
        source="whole_issue",
        tasks=[(1, "Crash in exporter", "bug_fix", [])],
    ),
]


def test_table_has_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decompose_table(case: Case) -> None:
    result = decompose(case.title, case.body, case.labels, "octo/repo", 5)
    got = [(t.ordinal, t.title, t.type, t.depends_on) for t in result.tasks]
    assert got == case.tasks
    assert result.source == case.source
    assert result.done == case.done
    assert result.criteria == case.criteria
    for task in result.tasks:
        assert task.key == f"octo/repo#5/{task.ordinal}"
        assert task.type in TASK_TYPES
        assert "\r" not in task.body and "\u200b" not in task.body


def test_nested_children_are_in_the_parent_body() -> None:
    body = "- [ ] Build the parser\n  - [ ] tokenizer\n  - [x] grammar\n- [ ] Wire it up\n"
    task = decompose("t", body, [], "o/r", 1).tasks[0]
    assert task.body == "Build the parser\n- [ ] tokenizer\n- [x] grammar"


def test_code_fence_inside_item_stays_in_its_body() -> None:
    body = "- [ ] Handle this input:\n  ```\n  - [ ] literal\n  ```\n- [ ] Second\n"
    tasks = decompose("t", body, [], "o/r", 1).tasks
    assert [t.title for t in tasks] == ["Handle this input:", "Second"]
    assert "- [ ] literal" in tasks[0].body


def test_whole_issue_body_is_cleaned() -> None:
    body = "Fix it\r\n<!-- secret instructions -->\r\nplease\u202e\U000e0041"
    task = decompose("Broken", body, [], "o/r", 1).tasks[0]
    assert task.body == "Fix it\n\nplease"


def test_ticking_an_item_keeps_keys_stable() -> None:
    before = "- [ ] Add A\n- [ ] Add B\n- [ ] Add C\n"
    after = "- [x] Add A\n- [ ] Add B\n- [ ] Add C\n"
    keys_before = {t.title: t.key for t in decompose("t", before, [], "o/r", 3).tasks}
    keys_after = {t.title: t.key for t in decompose("t", after, [], "o/r", 3).tasks}
    assert keys_after == {k: v for k, v in keys_before.items() if k != "Add A"}


def test_too_many_tasks_asks_to_split() -> None:
    body = "".join(f"- [ ] Add feature {n}\n" for n in range(12))
    result = decompose("t", body, [], "o/r", 1, max_tasks=10)
    assert result.too_many
    assert result.message is not None and "Split" in result.message and "12" in result.message
    exact = decompose("t", "".join(f"- [ ] Add feature {n}\n" for n in range(10)), [], "o/r", 1)
    assert not exact.too_many and exact.message is None


def test_all_done_has_a_message() -> None:
    result = decompose("t", "- [x] Add A\n", [], "o/r", 1)
    assert result.tasks == [] and result.message is not None


def test_long_titles_are_shortened() -> None:
    task = decompose("t", "- [ ] " + "word " * 100, [], "o/r", 1).tasks[0]
    assert len(task.title) <= 120 and task.title.endswith("…")


def test_a_64kb_body_finds_its_one_task_outside_code_comments_and_bullets() -> None:
    # Its speed (and that of PATHOLOGICAL below) is printed by `python -m bench.plan_shapes`.
    body = "## Tasks\n- [ ] Add the real task\n\n" + BIG_CHUNK * (65536 // len(BIG_CHUNK))
    assert len(body) >= 64 * 1024 - len(BIG_CHUNK)
    result = decompose("t", body, [], "o/r", 1)
    assert [t.title for t in result.tasks] == ["Add the real task"]


BIG_CHUNK = (
    "Some prose about the problem with `code` and a link https://example.com/x.\n"
    "```python\n- [ ] not a task\nprint('x')\n```\n"
    "<!-- hidden - [ ] -->\n"
    "- plain bullet\n  - nested\n"
)

PATHOLOGICAL = [
    "<!--" * 20000,
    "`" * 60000,
    "```\n" * 15000,
    "- " * 30000,
    "  " * 30000 + "x",
    "1." * 30000,
    "a." * 30000,
    "- [ ] x\n  " * 6000,
    "after 1, " * 7000,
    "#" * 60000,
]


@pytest.mark.parametrize("body", PATHOLOGICAL, ids=lambda b: repr(b[:8]))
def test_pathological_inputs_still_give_one_plan(body: str) -> None:
    # Regexes with nested or lazy quantifiers turn quadratic on inputs like these; the
    # bench prints how long each takes. Here: no error, and the one task every issue yields.
    result = decompose("t", body, [], "o/r", 1)
    assert len(result.tasks) == 1 and result.message is None
