"""Repository YAML read with limits: every hostile file is one short problem and defaults."""

from __future__ import annotations

import pytest

from bot.core.repo_config import CONFIG_PATH, MAX_PROBLEMS, RepoConfig, parse_repo_config
from bot.core.safe_yaml import MAX_BYTES, YamlRefused, brief, load_yaml
from bot.prompts.templates import PromptError, parse_template
from tests.hostile import alias_bomb, deep

DEFAULTS = RepoConfig()


def deep_mapping(levels: int) -> str:
    block = "".join(f"{' ' * n}k:\n" for n in range(200))  # block style, one space a level
    return block + "x: " + "{k: " * levels + "v" + "}" * levels + "\n"


HOSTILE = {
    "alias-bomb": (alias_bomb(), "alias"),
    "nested-500-lists": (deep(500), "deep"),
    "nested-500-mappings": (deep_mapping(500), "deep"),
    "one-megabyte": ("instructions: '" + "x" * 1_000_000 + "'\n", "byte limit"),
    "not-utf8": ("trigger_label: \ufffd\ufffd go\n", "not UTF-8"),
    "5000-digit-int": ("max_open_prs: " + "9" * 5000 + "\n", "could not be read"),
    "long-tag": ("x: !" + "t" * 5000 + " 1\n", "not valid YAML"),
}


@pytest.mark.parametrize(("text", "words"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_config_is_one_short_problem_and_defaults(text: str, words: str) -> None:
    config, problems = parse_repo_config(text)
    assert config == DEFAULTS
    [problem] = problems
    assert problem.startswith(CONFIG_PATH) and words in problem and "using defaults" in problem
    assert len(problem) < 200


def test_the_alias_bomb_is_a_few_hundred_bytes() -> None:
    assert len(alias_bomb()) < 400
    with pytest.raises(YamlRefused, match="alias"):
        load_yaml(alias_bomb())


def test_anchors_without_aliases_are_plain_values() -> None:
    assert load_yaml("a: &x 1\nb: 2\n") == {"a": 1, "b": 2}


def test_limits_are_inclusive_and_bytes_are_decoded() -> None:
    assert load_yaml("[" * 31 + "1" + "]" * 31) is not None
    with pytest.raises(YamlRefused, match="deep"):
        load_yaml("[" * 33 + "1" + "]" * 33)
    assert load_yaml(b"a: 1\n") == {"a": 1}
    with pytest.raises(YamlRefused, match="not UTF-8"):
        load_yaml(b"a: \xff\xfe\n")
    with pytest.raises(YamlRefused, match="byte limit"):
        load_yaml(b"a: 1\n" + b"#" * MAX_BYTES)


@pytest.mark.parametrize(
    "text",
    [
        "trigger_label: " + "[x, " * 3000 + "x" + "]" * 3000 + "\n",  # wide and deep
        "max_tasks_per_issue: '" + "x" * 60_000 + "'\n",
        "llm_provider: " + "g" * 60_000 + "\n",
        "instructions: [" + ", ".join(["word"] * 10_000) + "]\n",
        "k" * 60_000 + ": 1\n",
    ],
    ids=["deep-and-wide", "long-string", "long-provider", "long-list", "long-key"],
)
def test_user_values_are_never_echoed_in_full(text: str) -> None:
    _, problems = parse_repo_config(text)
    assert problems and all(len(p) < 200 for p in problems)


def test_thousands_of_problems_are_summarised() -> None:
    _, problems = parse_repo_config("".join(f"key{n}: 1\n" for n in range(5000)))
    assert len(problems) == MAX_PROBLEMS
    assert "4991 more" in problems[-1]


def test_brief_summarises_containers_without_printing_them() -> None:
    shared = ["x"] * 9
    for _ in range(8):
        shared = [shared] * 9  # 9**9 items if printed
    assert brief(shared) == "a list of 9 item(s)"
    assert brief("y" * 1000).endswith("…'") and len(brief("y" * 1000)) < 50
    assert brief(3) == "3"


OVERRIDE = """---
id: bug_fix
version: 2
task_type: bug_fix
{extra}params:
  repo: str
---
Fix {{{{ repo }}}}
"""


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("a: &a [x,x,x,x,x,x,x,x,x]\nb: [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n", "alias"),
        ("deep: " + "[" * 500 + "]" * 500 + "\n", "deep"),
    ],
    ids=["alias", "deep"],
)
def test_prompt_front_matter_has_the_same_limits(extra: str, words: str) -> None:
    with pytest.raises(PromptError, match=words) as caught:
        parse_template(OVERRIDE.format(extra=extra), source="override")
    assert len(str(caught.value)) < 200
