"""The operator's policy applied to a repository's config (pure): a repository chooses among
what the operator allows, lowers limits, adds protected paths, and is told what was changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.core.env_values import SettingsError
from bot.core.policy import (
    DEFAULT_PROTECTED_PATHS,
    RUNNER_CONFIG_PATHS,
    Ceilings,
    Endpoint,
    LLMChoice,
    Policy,
    choose_llm,
    effective_config,
)
from bot.settings import RepoConfig, Settings, load_repo_config

CORP = Endpoint("corp", "openai", "https://llm.corp/v1", "sk-corp", (), ("gpt-4o-mini", "o3"))
LOCAL = Endpoint("local", "openai", "http://127.0.0.1:8089/v1", None, (), (), "smollm2")
CLAUDE = Endpoint("claude", "anthropic", None, "sk-ant", (), ("*",), "claude-sonnet-4-5")
POLICY = Policy(endpoints=(CORP, LOCAL, CLAUDE), default_endpoint="corp")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (RepoConfig(), LLMChoice("openai", "gpt-4o-mini", "https://llm.corp/v1", "corp")),
        (RepoConfig(llm_model="o3"), LLMChoice("openai", "o3", "https://llm.corp/v1", "corp")),
        (RepoConfig(llm_endpoint="local"), LLMChoice("openai", "smollm2", LOCAL.base_url, "local")),
        (
            RepoConfig(llm_provider="anthropic", llm_model="claude-opus-4-5"),
            LLMChoice("anthropic", "claude-opus-4-5", None, "claude"),
        ),
    ],
)
def test_a_repository_picks_an_endpoint_and_model_the_operator_offers(
    config: RepoConfig, expected: LLMChoice
) -> None:
    assert choose_llm(config, POLICY) == (expected, [])


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (RepoConfig(llm_endpoint="evil"), "not an endpoint this server offers"),
        (RepoConfig(llm_model="o1-pro"), "not allowed on endpoint `corp`"),
        (RepoConfig(llm_endpoint="local", llm_model="gpt-4o"), "not allowed on endpoint `local`"),
    ],
)
def test_a_choice_the_operator_does_not_offer_falls_back_and_says_so(
    config: RepoConfig, words: str
) -> None:
    choice, [problem] = choose_llm(config, POLICY)
    assert choice is not None and choice.base_url in (CORP.base_url, LOCAL.base_url)
    assert choice.model in ("gpt-4o-mini", "smollm2") and words in problem


def test_without_a_default_endpoint_a_repository_that_names_none_plans_only() -> None:
    policy = Policy(endpoints=(CORP,))
    assert choose_llm(RepoConfig(), policy) == (None, [])
    assert choose_llm(RepoConfig(llm_endpoint="corp"), policy)[0] is not None


def test_limits_are_capped_by_the_operators_ceilings_and_never_raised() -> None:
    ceilings = Ceilings(task_budget_usd=1.0, monthly_budget_usd=20.0, max_open_prs=2)
    policy = Policy(ceilings=ceilings)
    config = RepoConfig(task_budget_usd=50.0, max_open_prs=1, max_tasks_per_issue=100)
    narrowed, problems = effective_config(config, policy)
    assert narrowed.task_budget_usd == 1.0  # lowered to the ceiling
    assert narrowed.max_open_prs == 1  # a lower value stays
    assert narrowed.max_tasks_per_issue == ceilings.max_tasks_per_issue
    assert narrowed.monthly_budget_usd == 20.0  # unset: the operator's cap
    assert len(problems) == 2 and all("ceiling" in p for p in problems)
    assert any("MAX_TASK_BUDGET_USD" in p for p in problems)


def test_every_ceiling_is_a_repository_key() -> None:
    keys = {f.name for f in dataclasses.fields(RepoConfig)}
    assert {f.name for f in dataclasses.fields(Ceilings)} <= keys


@pytest.mark.parametrize("denied", [(), ("secrets/",), (".github/workflows/",)])
def test_protected_paths_can_only_be_added_to(denied: tuple[str, ...]) -> None:
    narrowed, _ = effective_config(RepoConfig(denied_paths=denied), Policy())
    assert set(DEFAULT_PROTECTED_PATHS) <= set(narrowed.denied_paths)
    assert set(denied) <= set(narrowed.denied_paths)


def test_a_formatter_is_a_name_the_operator_allows_and_then_protects_runner_files() -> None:
    policy = Policy(formatters={"ruff": ("ruff", "format")})
    narrowed, problems = effective_config(RepoConfig(formatter="ruff"), policy)
    assert narrowed.formatter == "ruff" and problems == []
    assert set(RUNNER_CONFIG_PATHS) <= set(narrowed.denied_paths)

    narrowed, [problem] = effective_config(RepoConfig(formatter="black"), policy)
    assert narrowed.formatter is None and "`ruff`" in problem and "FORMATTERS" in problem
    assert "Makefile" not in narrowed.denied_paths


def test_load_repo_config_narrows_what_the_file_says() -> None:
    text = "formatter: sh\nllm_base_url: http://10.0.0.1/\nmax_open_prs: 99\ndenied_paths: []\n"
    config, problems = load_repo_config(text, Policy())
    assert config.formatter is None and config.max_open_prs == Ceilings().max_open_prs
    assert ".github/workflows/" in config.denied_paths
    assert len(problems) == 3 and not any("10.0.0.1" in p for p in problems)


# ---------------------------------------------------------------- operator settings


def from_env(**env: str) -> Settings:
    return Settings.from_env(env, env_file=Path("/nonexistent/issuewright.env"))


def test_named_endpoints_carry_their_own_key_headers_and_models() -> None:
    settings = from_env(
        LLM_PROVIDER="openai",
        LLM_MODEL="gpt-4o-mini",
        LLM_API_KEY="sk-default",
        LLM_ENDPOINTS="groq,local-llama",
        LLM_ENDPOINT_GROQ_PROVIDER="openai",
        LLM_ENDPOINT_GROQ_BASE_URL="https://api.groq.com/openai/v1",
        LLM_ENDPOINT_GROQ_API_KEY="gsk-groq-secret",
        LLM_ENDPOINT_GROQ_MODELS="llama-3.3-70b-versatile, llama-3.1-8b-instant",
        LLM_ENDPOINT_GROQ_HEADERS="X-Team: a, X-Token: hdr-secret",
        LLM_ENDPOINT_LOCAL_LLAMA_PROVIDER="openai",
        LLM_ENDPOINT_LOCAL_LLAMA_MODEL="smollm2",
    )
    default, groq, local = settings.policy.endpoints
    assert (default.name, default.api_key, default.model) == (
        "default",
        "sk-default",
        "gpt-4o-mini",
    )
    assert groq.api_key == "gsk-groq-secret" and groq.allows("llama-3.1-8b-instant")
    assert groq.headers == (("X-Team", "a"), ("X-Token", "hdr-secret"))
    assert local.model == "smollm2" and local.api_key is None
    assert {"gsk-groq-secret", "hdr-secret", "sk-default"} <= set(settings.secrets())
    assert "gsk-groq-secret" not in repr(settings) and "hdr-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"LLM_PROVIDER": "gemini"}, "LLM_PROVIDER must be one of openai, anthropic"),
        ({"LLM_ENDPOINTS": "x"}, "LLM_ENDPOINT_X_PROVIDER is not set"),
        ({"LLM_ENDPOINTS": "x", "LLM_ENDPOINT_X_PROVIDER": "openai"}, "LLM_ENDPOINT_X_MODEL"),
        ({"LLM_ENDPOINTS": "../x"}, "not a usable endpoint name"),
        ({"FORMATTERS": "ruff format"}, "FORMATTERS must look like"),
        ({"FORMATTERS": "x='unclosed"}, "FORMATTERS must look like"),
        ({"MAX_OPEN_PRS": "lots"}, "MAX_OPEN_PRS must be a whole number"),
        ({"MAX_TASK_BUDGET_USD": "-1"}, "MAX_TASK_BUDGET_USD must be a number of at least 0"),
    ],
)
def test_bad_operator_settings_stop_the_start_with_one_line(
    env: dict[str, str], words: str
) -> None:
    with pytest.raises(SettingsError, match=words.replace("(", r"\(")):
        from_env(**env)


def test_formatters_ceilings_and_protected_paths_from_the_environment() -> None:
    settings = from_env(
        FORMATTERS="ruff=ruff format --no-cache; black=black -q",
        MAX_OPEN_PRS="1",
        MAX_TASK_BUDGET_USD="0.5",
        PROTECTED_PATHS=".github/, deploy/",
    )
    policy = settings.policy
    assert policy.formatters == {"ruff": ("ruff", "format", "--no-cache"), "black": ("black", "-q")}
    assert policy.ceilings.max_open_prs == 1 and policy.ceilings.task_budget_usd == 0.5
    assert policy.protected_paths == (".github/", "deploy/")
    assert from_env().policy.protected_paths == DEFAULT_PROTECTED_PATHS


def test_credentials_in_endpoint_urls_are_secrets() -> None:
    settings = from_env(
        LLM_PROVIDER="openai",
        LLM_MODEL="m",
        LLM_BASE_URL="http://gw-user:gw-pass-123@gateway.internal/v1",
        LLM_ENDPOINTS="other",
        LLM_ENDPOINT_OTHER_PROVIDER="openai",
        LLM_ENDPOINT_OTHER_MODEL="m",
        LLM_ENDPOINT_OTHER_BASE_URL="https://:tok-456@llm.example/v1",
    )
    assert {"gw-user", "gw-pass-123", "tok-456"} <= set(settings.secrets())


def test_an_operator_can_forbid_llm_planning_and_the_repository_hears_why() -> None:
    allowed, problems = load_repo_config("llm_plan: true\n", Policy())
    assert allowed.llm_plan is True and problems == []
    forbidden, [problem] = load_repo_config(
        "llm_plan: true\n", Policy(ceilings=Ceilings(llm_plan=False))
    )
    assert forbidden.llm_plan is False
    assert "`llm_plan` is not allowed on this server (ALLOW_LLM_PLAN=false)" in problem
    # Off stays off, and says nothing.
    off, problems = load_repo_config("", Policy(ceilings=Ceilings(llm_plan=False)))
    assert off.llm_plan is False and problems == []
    assert from_env().policy.ceilings.llm_plan is True
    assert from_env(ALLOW_LLM_PLAN="false").policy.ceilings.llm_plan is False
