"""`.github/issuewright.yml`: whatever people write, the app gets a usable config (defaults where
the file is wrong) and a list of problems worded for them, never an exception."""

from __future__ import annotations

import dataclasses

import pytest

from bot.settings import CONFIG_PATH, RepoConfig, parse_repo_config

DEFAULTS = RepoConfig()


@pytest.mark.parametrize(
    "text",
    [None, "", "   \n\t\n", "# issuewright: all defaults for now\n", "---\n", "~\n"],
    ids=["missing", "empty", "blank", "only-a-comment", "empty-document", "null"],
)
def test_missing_or_empty_file_means_all_defaults(text: str | None) -> None:
    assert parse_repo_config(text) == (DEFAULTS, [])


def test_defaults_are_the_documented_ones() -> None:
    assert DEFAULTS.trigger_label == "issuewright"
    assert DEFAULTS.plan_label == "issuewright:plan"
    assert DEFAULTS.draft_prs is True
    assert DEFAULTS.denied_paths == ()  # additions only: the operator's list always applies
    assert DEFAULTS.formatter is None and DEFAULTS.llm_endpoint is None
    assert DEFAULTS.max_tasks_per_issue == 10
    assert DEFAULTS.llm_provider is None and DEFAULTS.llm_model is None


VALID = """\
# Issuewright settings for this repository
trigger_label: ai-fix
plan-label: ai-plan          # dashes work as well as underscores
llm_endpoint: claude
llm_provider: anthropic
llm_model: claude-sonnet-4-5
task_budget_usd: 3            # a whole number is fine for a price
monthly_budget_usd: 40.5
budget_warn_ratio: 0.9
draft_prs: false
base_branch: develop
denied_paths:
  - .github/workflows/
  - secrets/
max_tasks_per_issue: 4
max_files_per_task: 6
ci_fix_attempts: 0
max_open_prs: 3
max_new_prs_per_hour: 2
context_budget_tokens: 8000
max_output_tokens: 2048
llm_localize: true
llm_plan: true
formatter: ruff
max_file_bytes: 200000
instructions: |
  Use type hints.
  Keep functions short.
"""


def test_valid_file_sets_every_key_without_problems() -> None:
    config, problems = parse_repo_config(VALID)
    assert problems == []
    assert config == RepoConfig(
        trigger_label="ai-fix",
        plan_label="ai-plan",
        llm_endpoint="claude",
        llm_provider="anthropic",
        llm_model="claude-sonnet-4-5",
        task_budget_usd=3.0,
        monthly_budget_usd=40.5,
        budget_warn_ratio=0.9,
        draft_prs=False,
        base_branch="develop",
        denied_paths=(".github/workflows/", "secrets/"),
        max_tasks_per_issue=4,
        max_files_per_task=6,
        ci_fix_attempts=0,
        max_open_prs=3,
        max_new_prs_per_hour=2,
        context_budget_tokens=8000,
        max_output_tokens=2048,
        llm_localize=True,
        llm_plan=True,
        formatter="ruff",
        max_file_bytes=200000,
        instructions="Use type hints.\nKeep functions short.\n",
    )
    assert isinstance(config.task_budget_usd, float)


def test_every_field_is_covered_by_the_valid_example() -> None:
    """A new config key must be added to the example above (and to its validation)."""
    config, _ = parse_repo_config(VALID)
    unchanged = [
        f.name for f in dataclasses.fields(RepoConfig) if getattr(config, f.name) == f.default
    ]
    assert unchanged == []


def test_unknown_keys_are_listed_and_the_rest_applies() -> None:
    config, problems = parse_repo_config("trigger_lable: go\nmax_tasks_per_issue: 3\nmodel: x\n")
    assert config == dataclasses.replace(DEFAULTS, max_tasks_per_issue=3)
    assert problems == ["unknown key `trigger_lable` ignored", "unknown key `model` ignored"]


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("max_tasks_per_issue: lots", "max_tasks_per_issue", "whole number"),
        ("max_tasks_per_issue: 2.5", "max_tasks_per_issue", "whole number"),
        ("max_tasks_per_issue: 0", "max_tasks_per_issue", "at least 1"),
        ("max_open_prs: yes", "max_open_prs", "whole number"),  # YAML 1.1: yes is true
        ("draft_prs: 'no'", "draft_prs", "true or false"),
        ("draft_prs: 1", "draft_prs", "true or false"),
        ("trigger_label: 5", "trigger_label", "text"),
        ("trigger_label: [a, b]", "trigger_label", "text"),
        ("llm_provider: gemini", "llm_provider", "openai or anthropic"),
        ("denied_paths: .github/workflows/", "denied_paths", "a list"),
        ("denied_paths: [1, '']", "denied_paths", "list of paths"),
        ("task_budget_usd: -1", "task_budget_usd", "not be negative"),
        ("task_budget_usd: two dollars", "task_budget_usd", "number"),
        ("budget_warn_ratio: 1.5", "budget_warn_ratio", "between 0 and 1"),
        ("ci_fix_attempts: -2", "ci_fix_attempts", "not be negative"),
        ("instructions: {use: hints}", "instructions", "text"),
        # A formatter or endpoint is a name the operator offers, never a command line or URL.
        ("formatter: python3 -c 'import os'", "formatter", "name the server offers"),
        ("formatter: ../bin/sh", "formatter", "name the server offers"),
        ("llm_endpoint: http://evil.example/v1", "llm_endpoint", "name the server offers"),
    ],
)
def test_wrong_type_or_value_keeps_the_default_and_says_why(
    text: str, key: str, words: str
) -> None:
    config, problems = parse_repo_config(f"{text}\nmax_files_per_task: 7\n")
    assert getattr(config, key) == getattr(DEFAULTS, key)
    assert config.max_files_per_task == 7  # the valid key next to it still applies
    [problem] = problems
    assert f"`{key}`" in problem and words in problem and "default" in problem


@pytest.mark.parametrize(
    "text",
    [
        "trigger_label: [unclosed\n",
        "trigger_label: a\n  plan_label: b\n  - c\n",
        "trigger_label: 'unterminated\n",
        "\tmax_tasks_per_issue: 3\n",  # a tab for indentation
        "x: !!python/object/apply:os.system ['echo pwned']\n",  # no code runs, ever
        "? [a, b]\n: 1\n",  # a key YAML allows and Python cannot hash
        "trigger_label: a\x00b\n",
        "{{ not: yaml }",
    ],
)
def test_invalid_yaml_gives_defaults_and_one_problem(text: str) -> None:
    config, problems = parse_repo_config(text)
    assert config == DEFAULTS
    [problem] = problems
    assert problem.startswith(f"{CONFIG_PATH} is not valid YAML") and "using defaults" in problem


def test_invalid_yaml_says_where() -> None:
    _, [problem] = parse_repo_config("llm_provider: openai\nllm_model: [gpt-4o-mini\n")
    assert "at line 3" in problem


@pytest.mark.parametrize("text", ["- trigger_label: go\n", "just some words\n", "42\n"])
def test_a_file_that_is_not_a_mapping_gives_defaults(text: str) -> None:
    config, [problem] = parse_repo_config(text)
    assert config == DEFAULTS and "mapping" in problem


def test_problems_come_one_per_key_in_file_order() -> None:
    text = "colour: blue\ndraft_prs: maybe\nmax_open_prs: 2\nllm_provider: gemini\n"
    config, problems = parse_repo_config(text)
    assert config == dataclasses.replace(DEFAULTS, max_open_prs=2)
    assert [p.split("`")[1] for p in problems] == ["colour", "draft_prs", "llm_provider"]


# Values that parse but would silently disable a budget or the trigger.
@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_a_budget_that_is_not_a_finite_number_is_a_problem(value: str) -> None:
    config, problems = parse_repo_config(f"task_budget_usd: {value}\n")
    assert config.task_budget_usd == DEFAULTS.task_budget_usd and problems


@pytest.mark.parametrize(
    "text",
    ["trigger_label: ''\n", "plan_label: issuewright\n"],
    ids=["empty-trigger-label", "plan-label-equals-trigger-label"],
)
def test_labels_that_could_never_start_work_are_a_problem(text: str) -> None:
    config, problems = parse_repo_config(text)
    assert config.trigger_label != config.plan_label and config.trigger_label and problems


@pytest.mark.parametrize("key", ["llm_base_url", "llm-base-url", "llm_api_key"])
def test_operator_only_keys_are_ignored_with_a_reason(key: str) -> None:
    config, [problem] = parse_repo_config(f"{key}: http://user:pw@10.0.0.1/v1\nmax_open_prs: 2\n")
    assert config == dataclasses.replace(DEFAULTS, max_open_prs=2)
    assert "ignored" in problem and "operator" in problem and "10.0.0.1" not in problem
