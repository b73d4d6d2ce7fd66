"""Prompt overrides render with a step, time and size budget: hostile Jinja falls back to the
built-in template with a note instead of holding a thread or gigabytes."""

from __future__ import annotations

import pytest

from bot.prompts import sandbox as prompt_sandbox
from bot.prompts.library import PromptLibrary
from bot.prompts.templates import PromptTemplate, parse_template, render_template
from bot.prompts.vetting import sample_params
from tests.hostile import NESTED_LOOPS, NESTED_LOOPS_WITH_OUTPUT
from tests.prompts.test_library import builtin_source

HOSTILE = {
    "nested-loops": NESTED_LOOPS,
    "nested-loops-with-output": NESTED_LOOPS_WITH_OUTPUT,
    "string-times-huge": "{{ 'x' * 10000000000 }}",
    "huge-power": "{{ 10 ** 100000000 }}",
    "huge-product": "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    "doubling-namespace": (
        "{% set ns = namespace(s='xxxxxxxx') %}"
        "{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    ),
    "doubling-list": (
        "{% set ns = namespace(l=[1]) %}"
        "{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
    ),
    "center-filter": "{{ 'x'|center(1000000000) }}",
    "ljust-method": "{{ 'x'.ljust(1000000000) }}",
    "replace-method": "{{ (issue_body * 100).replace('', issue_body * 100) }}",
    "percent-format": "{{ '%999999999d' % 1 }}",
    "format-method": "{{ '{:>999999999}'.format(1) }}",
    "batch-fill": "{{ [1]|batch(1000000000, 0)|list|length }}",
    "recursive-macro": (
        "{% macro grow(s, n) %}{{ grow(s ~ s, n - 1) if n else s|length }}{% endmacro %}"
        "{{ grow('xxxxxxxx', 60) }}"
    ),
    "lipsum": "{{ lipsum(n=10000000) }}",
}


@pytest.mark.parametrize("jinja", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_override_falls_back_to_the_builtin_with_a_note(jinja: str) -> None:
    library = PromptLibrary({"bug_fix": builtin_source("bug_fix") + jinja})
    assert "bug_fix" not in library.overrides
    [problem] = library.problems
    assert "was not used" in problem and "built-in `bug_fix` v1 was used" in problem
    assert len(problem) < 400
    params = sample_params(library.builtin["bug_fix"])
    rendered = library.render("bug_fix", params)
    assert rendered.source == "builtin" and rendered.problem == problem


def test_the_note_says_which_limit() -> None:
    library = PromptLibrary({"bug_fix": builtin_source("bug_fix") + NESTED_LOOPS})
    assert "steps" in library.problems[0]
    library = PromptLibrary({"bug_fix": builtin_source("bug_fix") + "{{ 'x' * 3000000 }}"})
    assert "grow past 2,000,000 characters" in library.problems[0]


def test_the_deadline_stops_a_slow_render(monkeypatch: pytest.MonkeyPatch) -> None:
    # No step limit and a deadline already passed: the clock alone stops the loops.
    monkeypatch.setattr(prompt_sandbox, "MAX_STEPS", 10**12)
    monkeypatch.setattr(prompt_sandbox, "MAX_SECONDS", -1.0)
    library = PromptLibrary({"bug_fix": builtin_source("bug_fix") + NESTED_LOOPS})
    assert "longer than" in library.problems[0]


def test_an_override_over_64_kb_is_not_used() -> None:
    library = PromptLibrary({"bug_fix": builtin_source("bug_fix") + "x" * 70_000})
    assert "64" in library.problems[0] or "65,536" in library.problems[0]


def override(body: str) -> PromptTemplate:
    return parse_template(builtin_source("bug_fix") + body, source="override")


def test_ordinary_jinja_still_renders_in_an_override() -> None:
    template = override(
        "{% set ns = namespace(n=0) %}{% for t in other_tasks or [] %}"
        "{% set ns.n = ns.n + 1 %}{{ loop.index }}. {{ t|upper|center(20) }}\n{% endfor %}"
        "{{ ns.n * 2 }} {{ 2 ** 10 }} {{ 'a,b'.replace(',', ';') }} {{ issue_title|truncate(9) }}"
    )
    params = sample_params(template)
    text = render_template(template, {**params, "other_tasks": ["one", "two"]}).text
    assert "1.         ONE" in text and "4 1024 a;b" in text


def test_builtin_templates_render_without_the_budget() -> None:
    builtin = parse_template(builtin_source("bug_fix") + NESTED_LOOPS.replace("100000", "3"))
    assert render_template(builtin, sample_params(builtin)).source == "builtin"
