"""Process settings, read once at start by `Settings.from_env()`.

`from_env` is the only place the environment is read; nothing here reads it at import time,
so tests build `Settings(...)` directly. The per-repository `.github/issuewright.yml` schema
lives in `bot.core.repo_config` and is re-exported here.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.core.app_key import private_key_problem
from bot.core.env_values import (
    SettingsError,
    env_bool,
    env_ceilings,
    env_endpoints,
    env_float,
    env_formatters,
    env_headers,
    env_int,
    env_list,
    env_metrics_token,
    env_pricing,
    env_provider,
    shown,
)
from bot.core.policy import (
    DEFAULT_PROTECTED_PATHS,
    Ceilings,
    Endpoint,
    Policy,
    load_repo_config,
)
from bot.core.repo_config import CONFIG_PATH, RepoConfig, parse_repo_config

__all__ = [
    "CONFIG_PATH",
    "DEFAULT_DATABASE_URL",
    "RepoConfig",
    "Settings",
    "SettingsError",
    "load_repo_config",
    "parse_repo_config",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./issuewright.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# Heartbeats renew a lease every third of it (bot/jobs/worker.py). Below 15 s a beat would
# come every few seconds and a short database stall would let a healthy worker's lease expire.
MIN_JOB_LEASE_SECONDS = 15


def _private_key(env: Mapping[str, str]) -> str | None:
    """PRIVATE_KEY (PEM, or PEM with `\\n` escapes as one-line env files need), else the
    file named by PRIVATE_KEY_PATH; a key that does not parse is refused."""
    private_key = env.get("PRIVATE_KEY") or None
    key_path = env.get("PRIVATE_KEY_PATH")
    if not private_key and key_path:
        if "PRIVATE KEY" in key_path:  # the key itself, pasted into the path variable
            raise SettingsError(
                "PRIVATE_KEY_PATH holds a key, not a path: put the key in PRIVATE_KEY "
                "or the path of the .pem file in PRIVATE_KEY_PATH"
            )
        try:
            private_key = Path(key_path).expanduser().read_text()
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or type(exc).__name__
            raise SettingsError(
                f"PRIVATE_KEY_PATH {shown(key_path)} cannot be read ({why}); "
                "point it at the .pem file GitHub gave you"
            ) from None
    if private_key and "\\n" in private_key and "\n" not in private_key:
        private_key = private_key.replace("\\n", "\n")
    problem = private_key_problem(private_key) if private_key else None
    if problem:  # refused here, so the server, the worker and the CLI all refuse it at start
        where = "PRIVATE_KEY"
        if not env.get("PRIVATE_KEY"):
            where = f"the file PRIVATE_KEY_PATH names ({key_path!r})"  # read, so a path
        raise SettingsError(f"{where} {problem}")
    return private_key


def _cache_dir(env: Mapping[str, str]) -> Path:
    """ISSUEWRIGHT_CACHE_DIR, else the XDG cache folder: $XDG_CACHE_HOME (when absolute, as
    the specification requires) or ~/.cache, then `issuewright`."""
    if env.get("ISSUEWRIGHT_CACHE_DIR"):
        return Path(env["ISSUEWRIGHT_CACHE_DIR"]).expanduser()
    xdg = env.get("XDG_CACHE_HOME") or ""
    if Path(xdg).is_absolute():
        return Path(xdg) / "issuewright"
    try:
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    except RuntimeError:  # no HOME and no entry in the password database
        return Path(".issuewright") / "cache"
    return home / ".cache" / "issuewright"


@dataclass(frozen=True)
class Settings:
    """Everything the process needs, frozen after start. Secrets are excluded from repr
    (fields with `repr=False`, the DATABASE_URL password, extra header values)."""

    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    # ADMIN_LOGINS: GitHub logins that see every installation on the dashboard.
    admin_logins: tuple[str, ...] = ()
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
    # The command line's own cache (repository maps of local checkouts, one per commit).
    cache_dir: Path = Path(".cache/issuewright")
    env_file: Path = Path(".env")
    job_lease_seconds: int = 300
    job_max_attempts: int = 5
    shutdown_grace_seconds: float = 30.0
    # LLM defaults for repositories whose config names none.
    llm_provider: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    # Header values often carry credentials (gateway keys): kept out of repr like the keys.
    llm_extra_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    llm_timeout_seconds: float = 120.0
    # Transient LLM failures: attempts per call, and the first wait (doubling, jittered by as much).
    llm_max_attempts: int = 4
    llm_retry_backoff_seconds: float = 1.0
    # LLM_PRICING "model:input_usd_per_mtok:output_usd_per_mtok,…" over the built-in table.
    llm_pricing_overrides: tuple[tuple[str, float, float], ...] = ()
    installation_monthly_budget_usd: float = 50.0
    # `issuewright run`'s defaults for --warn-usd and --max-usd.
    run_warn_usd: float = 10.0
    run_max_usd: float = 50.0
    # The trust boundary (bot/core/policy.py): what repositories may choose among.
    llm_models: tuple[str, ...] = ()  # LLM_MODELS: models allowed on the LLM_* endpoint
    llm_endpoints: tuple[Endpoint, ...] = field(default=(), repr=False)
    llm_default_endpoint: str | None = None
    formatters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    formatter_timeout_seconds: float = 60.0
    formatter_path: str = "/usr/local/bin:/usr/bin:/bin"  # PATH a formatter is found on
    protected_paths: tuple[str, ...] = DEFAULT_PROTECTED_PATHS
    ceilings: Ceilings = field(default_factory=Ceilings)

    @functools.cached_property
    def policy(self) -> Policy:
        """What repositories may choose among: endpoints, formatters, ceilings, protection.
        Built once per Settings (they are frozen); every job and LLM call reads it."""
        endpoints = list(self.llm_endpoints)
        if self.llm_provider:  # the single LLM_* settings are the endpoint named "default"
            endpoints.insert(
                0,
                Endpoint(
                    "default",
                    self.llm_provider,
                    self.llm_base_url,
                    self.llm_api_key,
                    self.llm_extra_headers,
                    self.llm_models,
                    self.llm_model,
                ),
            )
        return Policy(
            endpoints=tuple(endpoints),
            default_endpoint=self.llm_default_endpoint,
            formatters=dict(self.formatters),
            protected_paths=self.protected_paths,
            ceilings=replace(
                self.ceilings, monthly_budget_usd=self.installation_monthly_budget_usd
            ),
        )

    # METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`.
    metrics_token: str | None = field(default=None, repr=False)
    # Wall clock for one whole LLM call (every attempt and the streamed answer): httpx's
    # timeout is per read, so a trickling endpoint would otherwise hold a worker forever.
    llm_deadline_seconds: float = 300.0
    # Bytes of one LLM answer read at most (after decoding); reading stops there.
    llm_max_response_bytes: int = 8_000_000
    # Wall clock for one job; past it the job is cancelled and failed (retried, then dead).
    job_timeout_seconds: float = 1800.0
    # Jobs of one installation running at once, over every worker: no tenant takes all slots.
    installation_max_concurrent_jobs: int = 2
    # How long the webhook receiver waits for the database to take a delivery before it
    # answers 503 (GitHub gives up on a delivery after 10 s and shows a timeout instead).
    webhook_store_wait_seconds: float = 5.0

    @property
    def has_app_credentials(self) -> bool:
        return bool(self.app_id and self.private_key)

    @property
    def missing(self) -> list[str]:
        """Names of settings still needed before the app can act on GitHub."""
        missing = []
        if not self.app_id:
            missing.append("APP_ID")
        if not self.private_key or private_key_problem(self.private_key):
            missing.append("PRIVATE_KEY or PRIVATE_KEY_PATH")  # unset, or not a usable key
        if not self.webhook_secret:
            missing.append("WEBHOOK_SECRET")
        return missing

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def __repr__(self) -> str:
        # Defined here, so @dataclass keeps it instead of generating one that would print
        # DATABASE_URL with its password.
        from bot.store.db import redact_url

        shown = []
        for f in fields(self):
            if not f.repr:
                continue
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        if self.llm_endpoints:
            shown.append(f"llm_endpoints={[e.name for e in self.llm_endpoints]!r}")
        if self.llm_extra_headers:
            shown.append(f"llm_extra_headers={[name for name, _ in self.llm_extra_headers]!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = None
    ) -> Settings:
        """Read settings from `.env` (if present) overlaid by the process environment."""
        process_env = dict(os.environ if environ is None else environ)
        path = Path(env_file or process_env.get("ENV_FILE") or ".env")
        file_env = {k: v for k, v in dotenv_values(path).items() if v is not None}
        env = {**file_env, **process_env}

        private_key = _private_key(env)
        log_format = (env.get("LOG_FORMAT") or "text").strip().lower()
        if log_format not in {"text", "json"}:
            raise SettingsError(f"LOG_FORMAT must be text or json, got {shown(log_format)}")
        log_level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {shown(log_level)}"
            )

        headers = env_headers(env, "LLM_EXTRA_HEADERS")
        provider = env_provider(env, "LLM_PROVIDER")

        return cls(
            app_id=env.get("APP_ID") or None,
            private_key=private_key,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            client_id=env.get("CLIENT_ID") or None,
            client_secret=env.get("CLIENT_SECRET") or None,
            admin_logins=tuple(login.lower() for login in env_list(env, "ADMIN_LOGINS")),
            app_slug=env.get("APP_SLUG") or "issuewright",
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("HOST") or "127.0.0.1",
            port=env_int(env, "PORT", 3000, minimum=1, maximum=65535),
            public_url=env.get("PUBLIC_URL") or None,
            worker_concurrency=env_int(env, "WORKER_CONCURRENCY", 4, minimum=0),
            run_worker=env_bool(env, "RUN_WORKER", True),
            log_level=log_level,
            log_format="json" if log_format == "json" else "text",
            github_api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            github_web_url=(env.get("GITHUB_WEB_URL") or "https://github.com").rstrip("/"),
            git_url_template=env.get("GIT_URL_TEMPLATE") or None,
            data_dir=Path(env.get("DATA_DIR") or ".issuewright"),
            cache_dir=_cache_dir(env),
            env_file=path,
            job_lease_seconds=env_int(env, "JOB_LEASE_SECONDS", 300, minimum=MIN_JOB_LEASE_SECONDS),
            job_max_attempts=env_int(env, "JOB_MAX_ATTEMPTS", 5, minimum=1),
            shutdown_grace_seconds=env_float(env, "SHUTDOWN_GRACE_SECONDS", 30.0),
            llm_provider=provider,
            llm_base_url=env.get("LLM_BASE_URL") or None,
            llm_api_key=env.get("LLM_API_KEY") or None,
            llm_model=env.get("LLM_MODEL") or None,
            llm_extra_headers=tuple(headers),
            llm_timeout_seconds=env_float(env, "LLM_TIMEOUT_SECONDS", 120.0),
            llm_max_attempts=env_int(env, "LLM_MAX_ATTEMPTS", 4, minimum=1),
            llm_retry_backoff_seconds=env_float(env, "LLM_RETRY_BACKOFF_SECONDS", 1.0),
            llm_pricing_overrides=env_pricing(env),
            installation_monthly_budget_usd=env_float(env, "INSTALLATION_MONTHLY_BUDGET_USD", 50.0),
            run_warn_usd=env_float(env, "RUN_WARN_USD", 10.0),
            run_max_usd=env_float(env, "RUN_MAX_USD", 50.0),
            llm_models=env_list(env, "LLM_MODELS"),
            llm_endpoints=env_endpoints(env),
            llm_default_endpoint=env.get("LLM_DEFAULT_ENDPOINT") or None,
            formatters=env_formatters(env),
            formatter_timeout_seconds=env_float(env, "FORMATTER_TIMEOUT_SECONDS", 60.0),
            formatter_path=env.get("PATH") or "/usr/local/bin:/usr/bin:/bin",
            protected_paths=env_list(env, "PROTECTED_PATHS") or DEFAULT_PROTECTED_PATHS,
            ceilings=env_ceilings(env),
            metrics_token=env_metrics_token(env),
            llm_deadline_seconds=float(env_int(env, "LLM_DEADLINE_SECONDS", 300, minimum=1)),
            llm_max_response_bytes=env_int(env, "LLM_MAX_RESPONSE_BYTES", 8_000_000, minimum=1024),
            job_timeout_seconds=float(env_int(env, "JOB_TIMEOUT_SECONDS", 1800, minimum=1)),
            installation_max_concurrent_jobs=env_int(
                env, "INSTALLATION_MAX_CONCURRENT_JOBS", 2, minimum=1
            ),
            webhook_store_wait_seconds=float(
                env_int(env, "WEBHOOK_STORE_WAIT_SECONDS", 5, minimum=1, maximum=9)
            ),
        )

    def secrets(self) -> list[str]:
        """Secret values, so log and error scrubbing can remove them."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        values = [self.private_key, self.webhook_secret, self.client_secret, self.llm_api_key]
        values.append(self.metrics_token)
        values += [value for _, value in self.llm_extra_headers]
        for endpoint in self.llm_endpoints:
            values += [endpoint.api_key, *(value for _, value in endpoint.headers)]
        # Credentials written into an endpoint URL (http://user:password@gateway/…).
        for url in (self.llm_base_url, *(e.base_url for e in self.llm_endpoints)):
            parts = urlsplit(url or "")
            values += [parts.password, parts.username if parts.password else None]
        try:
            values.append(make_url(self.database_url).password)
        except (ArgumentError, ValueError):  # an unparseable URL fails later with its own message
            values.append(None)
        return [v for v in values if v]
