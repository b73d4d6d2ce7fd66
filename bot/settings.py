"""Process settings (read once at start) and the per-repository config schema.

`Settings.from_env()` is the only place the environment is read. Nothing here reads the
environment at import time, so tests build `Settings(...)` directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml
from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./issuewright.db"


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message says which and what to do."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the process needs, frozen after start. Secrets are excluded from repr."""

    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    app_slug: str = "issuewright"
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3000
    public_url: str | None = None
    worker_concurrency: int = 4
    run_worker: bool = True
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    github_api_url: str = "https://api.github.com"
    github_web_url: str = "https://github.com"
    # Template for git remotes; {owner}/{repo} are filled in. Tests point it at local bare repos.
    git_url_template: str | None = None
    data_dir: Path = Path(".issuewright")
    env_file: Path = Path(".env")
    job_lease_seconds: int = 300
    job_max_attempts: int = 5
    shutdown_grace_seconds: float = 30.0
    # LLM defaults for repositories whose config names none.
    llm_provider: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    llm_extra_headers: tuple[tuple[str, str], ...] = ()
    llm_timeout_seconds: float = 120.0
    # JSON object {"model": [input_per_mtok, output_per_mtok]} overriding the built-in table.
    llm_pricing_overrides: tuple[tuple[str, float, float], ...] = ()
    installation_monthly_budget_usd: float = 50.0

    @property
    def has_app_credentials(self) -> bool:
        return bool(self.app_id and self.private_key)

    @property
    def missing(self) -> list[str]:
        """Names of settings still needed before the app can act on GitHub."""
        missing = []
        if not self.app_id:
            missing.append("APP_ID")
        if not self.private_key:
            missing.append("PRIVATE_KEY or PRIVATE_KEY_PATH")
        if not self.webhook_secret:
            missing.append("WEBHOOK_SECRET")
        return missing

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = None
    ) -> Settings:
        """Read settings from `.env` (if present) overlaid by the process environment."""
        process_env = dict(os.environ if environ is None else environ)
        path = Path(env_file or process_env.get("ENV_FILE") or ".env")
        file_env = {k: v for k, v in dotenv_values(path).items() if v is not None}
        env = {**file_env, **process_env}

        private_key = env.get("PRIVATE_KEY") or None
        key_path = env.get("PRIVATE_KEY_PATH")
        if not private_key and key_path:
            try:
                private_key = Path(key_path).expanduser().read_text()
            except OSError as exc:
                raise SettingsError(
                    f"PRIVATE_KEY_PATH {key_path!r} cannot be read ({exc.strerror}); "
                    "point it at the .pem file GitHub gave you"
                ) from None
        if private_key and "\\n" in private_key and "\n" not in private_key:
            private_key = private_key.replace("\\n", "\n")

        log_format = env.get("LOG_FORMAT", "text").lower()
        if log_format not in {"text", "json"}:
            raise SettingsError(f"LOG_FORMAT must be text or json, got {log_format!r}")
        log_level = env.get("LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
            )

        headers: list[tuple[str, str]] = []
        for item in filter(None, (env.get("LLM_EXTRA_HEADERS") or "").split(",")):
            name, sep, value = item.partition(":")
            if not sep:
                raise SettingsError("LLM_EXTRA_HEADERS must look like 'Name: value, Other: value'")
            headers.append((name.strip(), value.strip()))

        pricing: list[tuple[str, float, float]] = []
        for item in filter(None, (env.get("LLM_PRICING") or "").split(",")):
            try:
                model, inp, out = item.split(":")
                pricing.append((model.strip(), float(inp), float(out)))
            except ValueError:
                raise SettingsError(
                    "LLM_PRICING must look like 'model:input_usd_per_mtok:output_usd_per_mtok,…'"
                ) from None

        return cls(
            app_id=env.get("APP_ID") or None,
            private_key=private_key,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            client_id=env.get("CLIENT_ID") or None,
            client_secret=env.get("CLIENT_SECRET") or None,
            app_slug=env.get("APP_SLUG") or "issuewright",
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 3000, minimum=1),
            public_url=env.get("PUBLIC_URL") or None,
            worker_concurrency=_int(env, "WORKER_CONCURRENCY", 4, minimum=0),
            run_worker=_bool(env, "RUN_WORKER", True),
            log_level=log_level,
            log_format=log_format,  # type: ignore[arg-type]
            github_api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            github_web_url=(env.get("GITHUB_WEB_URL") or "https://github.com").rstrip("/"),
            git_url_template=env.get("GIT_URL_TEMPLATE") or None,
            data_dir=Path(env.get("DATA_DIR") or ".issuewright"),
            env_file=path,
            job_lease_seconds=_int(env, "JOB_LEASE_SECONDS", 300, minimum=5),
            job_max_attempts=_int(env, "JOB_MAX_ATTEMPTS", 5, minimum=1),
            shutdown_grace_seconds=_float(env, "SHUTDOWN_GRACE_SECONDS", 30.0),
            llm_provider=env.get("LLM_PROVIDER") or None,
            llm_base_url=env.get("LLM_BASE_URL") or None,
            llm_api_key=env.get("LLM_API_KEY") or None,
            llm_model=env.get("LLM_MODEL") or None,
            llm_extra_headers=tuple(headers),
            llm_timeout_seconds=_float(env, "LLM_TIMEOUT_SECONDS", 120.0),
            llm_pricing_overrides=tuple(pricing),
            installation_monthly_budget_usd=_float(env, "INSTALLATION_MONTHLY_BUDGET_USD", 50.0),
        )

    def secrets(self) -> list[str]:
        """Secret values, so log and error scrubbing can remove them."""
        values = [self.private_key, self.webhook_secret, self.client_secret, self.llm_api_key]
        return [v for v in values if v]


# ---------------------------------------------------------------- repository config


@dataclass(frozen=True)
class RepoConfig:
    """`.github/issuewright.yml`: every key optional, every default sensible."""

    trigger_label: str = "issuewright"
    plan_label: str = "issuewright:plan"
    llm_provider: str | None = None  # "openai" (any OpenAI-compatible endpoint) or "anthropic"
    llm_model: str | None = None
    llm_base_url: str | None = None
    task_budget_usd: float = 2.0
    monthly_budget_usd: float | None = None
    budget_warn_ratio: float = 0.8
    draft_prs: bool = True
    base_branch: str | None = None
    denied_paths: tuple[str, ...] = (".github/workflows/",)
    max_tasks_per_issue: int = 10
    max_files_per_task: int = 10
    ci_fix_attempts: int = 2
    max_open_prs: int = 5
    max_new_prs_per_hour: int = 10
    context_budget_tokens: int = 16000
    llm_localize: bool = False
    formatter: str | None = None
    max_file_bytes: int = 1_000_000
    instructions: str = ""


CONFIG_PATH = ".github/issuewright.yml"

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "trigger_label": (str,),
    "plan_label": (str,),
    "llm_provider": (str, type(None)),
    "llm_model": (str, type(None)),
    "llm_base_url": (str, type(None)),
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
    "llm_localize": (bool,),
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
        return f"`{key}` must be {want}, got {value!r}"
    if key == "llm_provider" and value not in (None, "openai", "anthropic"):
        return f"`llm_provider` must be openai or anthropic, got {value!r}"
    if key == "denied_paths" and not all(isinstance(p, str) and p for p in value):
        return "`denied_paths` must be a list of paths"
    if key in {"max_tasks_per_issue", "max_files_per_task", "context_budget_tokens"} and value < 1:
        return f"`{key}` must be at least 1, got {value}"
    if key in {"ci_fix_attempts", "max_open_prs", "max_new_prs_per_hour", "max_file_bytes"} and (
        value < 0
    ):
        return f"`{key}` must not be negative, got {value}"
    if key in {"task_budget_usd", "monthly_budget_usd"} and value is not None and value < 0:
        return f"`{key}` must not be negative, got {value}"
    if key == "budget_warn_ratio" and not 0 < value <= 1:
        return f"`budget_warn_ratio` must be between 0 and 1, got {value}"
    return None


def parse_repo_config(text: str | None) -> tuple[RepoConfig, list[str]]:
    """Parse `.github/issuewright.yml`. Returns the config (defaults where a key is missing or
    invalid) and the problems found, worded for the people who wrote the file."""
    if text is None or not text.strip():
        return RepoConfig(), []
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        return RepoConfig(), [f"{CONFIG_PATH} is not valid YAML{where}: {problem}; using defaults"]
    if raw is None:
        return RepoConfig(), []
    if not isinstance(raw, dict):
        return RepoConfig(), [f"{CONFIG_PATH} must be a mapping of keys to values; using defaults"]
    known = {f.name for f in fields(RepoConfig)}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in known:
            problems.append(f"unknown key `{key}` ignored")
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
    return RepoConfig(**values), problems
