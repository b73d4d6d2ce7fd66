"""What the operator allows, and a repository's config narrowed to it (pure: no I/O).

The operator (environment, `.env`) owns LLM endpoints and their keys, the commands the server
may run, spend ceilings and limits, and the always-protected paths. A repository's
`.github/issuewright.yml` only chooses among those: it picks an endpoint and a model by name, a
formatter by name, lowers limits and adds protected paths. `effective_config` applies that rule
once, where a job reads the config, so nothing downstream can use a value the operator did not
allow; every value it had to change is named in a problem sentence for the status comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from bot.core.repo_config import RepoConfig, bounded_problems, parse_repo_config

# Paths no LLM edit may touch whatever a repository says: CI definitions, the app's own
# config and prompt overrides (an edit there would steer the app on its next run), review
# ownership, and files that change how git checks out or filters content.
DEFAULT_PROTECTED_PATHS: tuple[str, ...] = (
    ".github/workflows/",
    ".github/issuewright.yml",
    ".github/issuewright/",
    "CODEOWNERS",
    ".github/CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitattributes",
    ".gitmodules",
)

# Files that tell a command runner what to execute. When a repository names a formatter these
# are protected too: a model that could edit them could choose what the formatter runs.
RUNNER_CONFIG_PATHS: tuple[str, ...] = (
    "Makefile",
    "makefile",
    "GNUmakefile",
    "package.json",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "justfile",
    "Justfile",
    "Taskfile.yml",
    "Taskfile.yaml",
    "noxfile.py",
    "tox.ini",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
)

# Where formatters look for their settings. While a formatter runs, these files hold their
# content from the base commit (or are absent if new), never the model's edits.
FORMATTER_CONFIG_NAMES: frozenset[str] = frozenset(
    {
        "pyproject.toml",
        "ruff.toml",
        ".ruff.toml",
        "setup.cfg",
        "tox.ini",
        ".editorconfig",
        ".flake8",
        ".isort.cfg",
        ".style.yapf",
        ".clang-format",
        "rustfmt.toml",
        ".rustfmt.toml",
        "biome.json",
        "biome.jsonc",
        "dprint.json",
        ".prettierrc",
        ".prettierrc.json",
        ".prettierrc.yaml",
        ".prettierrc.yml",
        ".prettierrc.toml",
        ".prettierrc.js",
        ".prettierrc.cjs",
        ".prettierrc.mjs",
        "prettier.config.js",
        "prettier.config.cjs",
        "prettier.config.mjs",
        ".prettierignore",
        "package.json",
        ".gofmt",
        ".stylua.toml",
        "stylua.toml",
    }
)


@dataclass(frozen=True)
class Endpoint:
    """One LLM endpoint as the operator defined it: where calls go, with which key and headers,
    and the models a repository may pick there (`*` allows any model the price table knows)."""

    name: str
    provider: str  # "openai" (any OpenAI-compatible server) or "anthropic"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    models: tuple[str, ...] = ()
    default_model: str | None = None

    def allows(self, model: str) -> bool:
        return model == self.default_model or model in self.models or "*" in self.models

    @property
    def model(self) -> str | None:
        """The model used when a repository names none."""
        return self.default_model or next((m for m in self.models if m != "*"), None)


@dataclass(frozen=True)
class Ceilings:
    """Operator maxima for every limit a repository may set; each default is the repository
    default, so a repository can lower any of them and raise none."""

    task_budget_usd: float = RepoConfig.task_budget_usd
    monthly_budget_usd: float = 50.0  # INSTALLATION_MONTHLY_BUDGET_USD; repositories: unset
    max_output_tokens: int = RepoConfig.max_output_tokens
    context_budget_tokens: int = RepoConfig.context_budget_tokens
    max_tasks_per_issue: int = RepoConfig.max_tasks_per_issue
    max_files_per_task: int = RepoConfig.max_files_per_task
    max_file_bytes: int = RepoConfig.max_file_bytes
    max_open_prs: int = RepoConfig.max_open_prs
    max_new_prs_per_hour: int = RepoConfig.max_new_prs_per_hour
    ci_fix_attempts: int = RepoConfig.ci_fix_attempts
    # A switch, not a number: False forbids it (a repository's `true` is turned off, said so).
    llm_plan: bool = True


# The environment variable that sets each ceiling, for messages and for Settings.from_env.
CEILING_SETTINGS: dict[str, str] = {
    "task_budget_usd": "MAX_TASK_BUDGET_USD",
    "monthly_budget_usd": "INSTALLATION_MONTHLY_BUDGET_USD",
    "max_output_tokens": "MAX_OUTPUT_TOKENS",
    "context_budget_tokens": "MAX_CONTEXT_BUDGET_TOKENS",
    "max_tasks_per_issue": "MAX_TASKS_PER_ISSUE",
    "max_files_per_task": "MAX_FILES_PER_TASK",
    "max_file_bytes": "MAX_FILE_BYTES",
    "max_open_prs": "MAX_OPEN_PRS",
    "max_new_prs_per_hour": "MAX_NEW_PRS_PER_HOUR",
    "ci_fix_attempts": "MAX_CI_FIX_ATTEMPTS",
    "llm_plan": "ALLOW_LLM_PLAN",
}


@dataclass(frozen=True)
class Policy:
    """Everything a repository's config is narrowed to."""

    endpoints: tuple[Endpoint, ...] = ()
    default_endpoint: str | None = None
    formatters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    protected_paths: tuple[str, ...] = DEFAULT_PROTECTED_PATHS
    ceilings: Ceilings = field(default_factory=Ceilings)

    def endpoint(self, name: str | None) -> Endpoint | None:
        """The endpoint of that name; with None, the server's default (LLM_DEFAULT_ENDPOINT,
        else the one the LLM_* settings define), if there is one."""
        wanted = name or self.default_endpoint or "default"
        return next((e for e in self.endpoints if e.name == wanted), None)


@dataclass(frozen=True)
class LLMChoice:
    """The endpoint and model a repository's calls use: both from the operator's list."""

    provider: str
    model: str
    base_url: str | None
    endpoint: str = "default"


def _names(items: Mapping[str, object] | tuple[Endpoint, ...]) -> str:
    names = [e.name for e in items] if isinstance(items, tuple) else list(items)
    return ", ".join(f"`{n}`" for n in names) or "none"


def choose_llm(config: RepoConfig, policy: Policy) -> tuple[LLMChoice | None, list[str]]:
    """The endpoint and model a repository uses, or None (plan-only mode), with the reasons a
    repository's choice was not taken."""
    problems: list[str] = []
    endpoint = None
    if config.llm_endpoint:
        endpoint = policy.endpoint(config.llm_endpoint)
        if endpoint is None:
            problems.append(
                f"`llm_endpoint` {config.llm_endpoint!r} is not an endpoint this server offers "
                f"(offered: {_names(policy.endpoints)}); using the server's default"
            )
    if endpoint is None and config.llm_provider:
        # The older way to choose: the first endpoint of that provider the operator defined.
        default = policy.endpoint(None)
        if default is not None and default.provider == config.llm_provider:
            endpoint = default
        else:
            endpoint = next(
                (e for e in policy.endpoints if e.provider == config.llm_provider), None
            )
        if endpoint is None and policy.endpoints:
            problems.append(
                f"`llm_provider` {config.llm_provider!r}: this server offers no endpoint of that "
                "provider; using the server's default"
            )
    if endpoint is None:
        endpoint = policy.endpoint(None)
    if endpoint is None:
        return None, problems
    model = endpoint.model
    if config.llm_model:
        if endpoint.allows(config.llm_model):
            model = config.llm_model
        else:
            allowed = [m for m in (endpoint.default_model, *endpoint.models) if m and m != "*"]
            problems.append(
                f"`llm_model` {config.llm_model!r} is not allowed on endpoint `{endpoint.name}` "
                f"(allowed: {', '.join(f'`{m}`' for m in dict.fromkeys(allowed)) or 'none'}); "
                f"using {'`' + model + '`' if model else 'no model'}"
            )
    if not model:
        return None, problems
    return LLMChoice(endpoint.provider, model, endpoint.base_url, endpoint.name), problems


def effective_config(config: RepoConfig, policy: Policy) -> tuple[RepoConfig, list[str]]:
    """`config` narrowed to what the operator allows, and a sentence for each value changed."""
    problems: list[str] = []
    changes: dict[str, object] = {}
    for f in fields(Ceilings):
        ceiling = getattr(policy.ceilings, f.name)
        value = getattr(config, f.name)
        if value is None:  # monthly_budget_usd unset: the operator's cap
            changes[f.name] = ceiling
        elif isinstance(ceiling, bool):
            if value and not ceiling:
                changes[f.name] = False
                problems.append(
                    f"`{f.name}` is not allowed on this server ({CEILING_SETTINGS[f.name]}"
                    "=false); it stays off"
                )
        elif value > ceiling:
            changes[f.name] = ceiling
            problems.append(
                f"`{f.name}` {value} is above this server's ceiling {ceiling} "
                f"({CEILING_SETTINGS[f.name]}); using {ceiling}"
            )
    extra = tuple(p for p in config.denied_paths if p not in policy.protected_paths)
    protected = policy.protected_paths + extra
    if config.formatter is not None:
        if config.formatter not in policy.formatters:
            problems.append(
                f"`formatter` {config.formatter!r} is not one this server allows "
                f"(allowed: {_names(policy.formatters)}, set by the operator in FORMATTERS); "
                "no formatter runs"
            )
            changes["formatter"] = None
        else:
            protected += tuple(p for p in RUNNER_CONFIG_PATHS if p not in protected)
    changes["denied_paths"] = protected
    return replace(config, **changes), problems  # type: ignore[arg-type]


def load_repo_config(text: str | None, policy: Policy) -> tuple[RepoConfig, list[str]]:
    """The file parsed, then narrowed to what the operator allows (bot/core/policy.py): the
    one way a job or a CLI command reads a repository's config."""
    config, problems = parse_repo_config(text)
    config, narrowed = effective_config(config, policy)
    _, llm_problems = choose_llm(config, policy)
    return config, bounded_problems([*problems, *narrowed, *llm_problems])
