"""The per-repository configuration `.github/issuewright.yml`: schema and validation.

Read at the default branch through the installation client (bot/repo/access.py). Problems are
returned as sentences for the people who wrote the file, never raised: defaults apply.
Re-exported by `bot.settings`, where it lived before process and repository settings split.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any

from bot.core.safe_yaml import SHOWN_CHARS, YamlRefused, brief, load_yaml


@dataclass(frozen=True)
class RepoConfig:
    """`.github/issuewright.yml`: every key optional, every default sensible."""

    trigger_label: str = "issuewright"
    plan_label: str = "issuewright:plan"
    # An endpoint the operator defined (LLM_ENDPOINTS), by name; `llm_provider` picks the
    # first endpoint of that provider. A repository never supplies a URL or a key.
    llm_endpoint: str | None = None
    llm_provider: str | None = None  # "openai" (any OpenAI-compatible endpoint) or "anthropic"
    llm_model: str | None = None
    task_budget_usd: float = 2.0
    monthly_budget_usd: float | None = None
    budget_warn_ratio: float = 0.8
    draft_prs: bool = True
    base_branch: str | None = None
    # Added to the operator's protected paths (PROTECTED_PATHS); nothing here removes one.
    denied_paths: tuple[str, ...] = ()
    max_tasks_per_issue: int = 10
    max_files_per_task: int = 10
    ci_fix_attempts: int = 2
    max_open_prs: int = 5
    max_new_prs_per_hour: int = 10
    context_budget_tokens: int = 16000
    max_output_tokens: int = 4096  # per LLM call; also the worst case budgets are checked with
    llm_localize: bool = False
    # The configured model groups the issue's items into tasks (bot/plan/llm_plan.py); the
    # rule-based plan is the fallback. Off unless the repository asks and the operator allows.
    llm_plan: bool = False
    formatter: str | None = None  # a name from the operator's FORMATTERS, never a command line
    max_file_bytes: int = 1_000_000
    instructions: str = ""


CONFIG_PATH = ".github/issuewright.yml"
APP_DIR = ".github/issuewright/"  # the app's other files: prompt overrides (`prompts/`)


def is_app_file(path: str) -> bool:
    """The app's own configuration or override files: they steer the app, they are not the
    repository's code, so no prompt shows them as code context."""
    return path == CONFIG_PATH or path.startswith(APP_DIR)


# The LLM providers the app has clients for (bot/llm/factory.py), and the form of a name an
# operator gives an endpoint or formatter, which is also what a repository may write.
LLM_PROVIDERS = ("openai", "anthropic")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Keys that once chose what only the operator may choose: named, so the file's authors learn why.
_OPERATOR_ONLY = {
    "llm_base_url": "the server's operator defines LLM endpoints (LLM_ENDPOINTS); "
    "pick one by name with `llm_endpoint`",
    "llm_api_key": "keys are the operator's; pick an endpoint by name with `llm_endpoint`",
}

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "trigger_label": (str,),
    "plan_label": (str,),
    "llm_endpoint": (str, type(None)),
    "llm_provider": (str, type(None)),
    "llm_model": (str, type(None)),
    "task_budget_usd": (int, float),
    "monthly_budget_usd": (int, float, type(None)),
    "budget_warn_ratio": (int, float),
    "draft_prs": (bool,),
    "base_branch": (str, type(None)),
    "denied_paths": (list,),
    "max_tasks_per_issue": (int,),
    "max_files_per_task": (int,),
    "ci_fix_attempts": (int,),
    "max_open_prs": (int,),
    "max_new_prs_per_hour": (int,),
    "context_budget_tokens": (int,),
    "max_output_tokens": (int,),
    "llm_localize": (bool,),
    "llm_plan": (bool,),
    "formatter": (str, type(None)),
    "max_file_bytes": (int,),
    "instructions": (str,),
}

_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    type(None): "empty",
}


def _check_value(key: str, value: Any) -> str | None:
    allowed = _FIELD_TYPES[key]
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    else:
        ok = isinstance(value, allowed)
    if not ok:
        want = " or ".join(_TYPE_NAMES[t] for t in allowed if t is not type(None))
        return f"`{key}` must be {want}, got {brief(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"`{key}` must be a finite number, got {brief(value)}"
    if key in {"trigger_label", "plan_label"} and not value.strip():
        return f"`{key}` must not be empty"
    if key == "llm_provider" and value not in (None, *LLM_PROVIDERS):
        return f"`llm_provider` must be openai or anthropic, got {brief(value)}"
    if (
        key in {"formatter", "llm_endpoint"}
        and value is not None
        and not NAME_PATTERN.fullmatch(value)
    ):
        shown = brief(value)
        return f"`{key}` must be a name the server offers (letters, digits, - and _), got {shown}"
    if key == "denied_paths" and not all(isinstance(p, str) and p for p in value):
        return "`denied_paths` must be a list of paths"
    if (
        key
        in {
            "max_tasks_per_issue",
            "max_files_per_task",
            "context_budget_tokens",
            "max_output_tokens",
        }
        and value < 1
    ):
        return f"`{key}` must be at least 1, got {brief(value)}"
    if key in {"ci_fix_attempts", "max_open_prs", "max_new_prs_per_hour", "max_file_bytes"} and (
        value < 0
    ):
        return f"`{key}` must not be negative, got {brief(value)}"
    if key in {"task_budget_usd", "monthly_budget_usd"} and value is not None and value < 0:
        return f"`{key}` must not be negative, got {brief(value)}"
    if key == "budget_warn_ratio" and not 0 < value <= 1:
        return f"`budget_warn_ratio` must be between 0 and 1, got {brief(value)}"
    return None


def parse_repo_config(text: str | None) -> tuple[RepoConfig, list[str]]:
    """Parse `.github/issuewright.yml`. Returns the config (defaults where a key is missing or
    invalid) and the problems found, worded for the people who wrote the file."""
    if text is None or not text.strip():
        return RepoConfig(), []
    try:  # size, depth and alias limits; never raises anything but YamlRefused
        raw = load_yaml(text)
    except YamlRefused as exc:
        return RepoConfig(), [f"{CONFIG_PATH} {exc}; using defaults"]
    if raw is None:
        return RepoConfig(), []
    if not isinstance(raw, dict):
        return RepoConfig(), [f"{CONFIG_PATH} must be a mapping of keys to values; using defaults"]
    known = {f.name for f in fields(RepoConfig)}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name in _OPERATOR_ONLY:
            problems.append(f"`{name}` is ignored: {_OPERATOR_ONLY[name]}")
            continue
        if name not in known:
            problems.append(f"unknown key `{str(key)[:SHOWN_CHARS]}` ignored")
            continue
        error = _check_value(name, value)
        if error:
            problems.append(f"{error}; using the default")
            continue
        if name == "denied_paths":
            value = tuple(value)
        elif isinstance(value, int) and float in _FIELD_TYPES[name]:
            value = float(value)
        values[name] = value
    config = RepoConfig(**values)
    if config.plan_label == config.trigger_label:
        # One label cannot both start work and only preview it.
        problems.append(
            "`plan_label` and `trigger_label` must differ "
            f"(both are {brief(config.trigger_label)}); using the default for the clashing one"
        )
        values.pop("plan_label", None)
        config = RepoConfig(**values)
        if config.plan_label == config.trigger_label:
            config = RepoConfig(**{**values, "trigger_label": RepoConfig.trigger_label})
    return config, bounded_problems(problems)


MAX_PROBLEMS = 10


def bounded_problems(problems: list[str]) -> list[str]:
    # Thousands of unknown keys fit in 64 KB: the status comment lists the first few only.
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS + 1
    return [*problems[: MAX_PROBLEMS - 1], f"… and {more} more problem(s) in the file"]
