"""Reading operator settings from environment values (pure): each reader takes the mapping and
a variable's name and gives a typed value, or raises SettingsError with one line that says
which variable and what to do, never echoing more than the start of a value."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from bot.core.policy import (
    CEILING_SETTINGS,
    Ceilings,
    Endpoint,
)
from bot.core.repo_config import LLM_PROVIDERS, NAME_PATTERN


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message says which and what to do.
    Always one line, and never holds a secret (the CLI prints it as is)."""


def shown(raw: str) -> str:
    """A rejected value as it may appear in an error: repr keeps it on one line, and the cut
    keeps a pasted key or token (a value put in the wrong variable) out of logs."""
    return repr(raw) if len(raw) <= 24 else f"{raw[:8]!r}… ({len(raw)} characters)"


def env_int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {shown(raw)}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {shown(raw)}") from None
    # nan and inf parse as floats but break every timeout and budget computed from them.
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{name} must be a number of at least 0, got {shown(raw)}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {shown(raw)}")


def env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in (env.get(name) or "").split(",") if item.strip())


def env_headers(env: Mapping[str, str], name: str) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for item in filter(None, (env.get(name) or "").split(",")):
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise SettingsError(f"{name} must look like 'Name: value, Other: value'")
        headers.append((key.strip(), value.strip()))
    return tuple(headers)


def env_provider(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if raw.lower() not in LLM_PROVIDERS:
        raise SettingsError(
            f"{name} must be one of {', '.join(LLM_PROVIDERS)} (openai for any "
            f"OpenAI-compatible server), got {shown(raw)}"
        )
    return raw.lower()


def endpoint_prefix(name: str) -> str:
    """Where an endpoint of LLM_ENDPOINTS is set: `groq` → `LLM_ENDPOINT_GROQ_`."""
    return f"LLM_ENDPOINT_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_"


def env_endpoints(env: Mapping[str, str]) -> tuple[Endpoint, ...]:
    """LLM_ENDPOINTS=groq,local with LLM_ENDPOINT_GROQ_PROVIDER, _BASE_URL, _API_KEY, _MODELS,
    _MODEL and _HEADERS per name: each endpoint's key and headers travel only with its URL."""
    endpoints: list[Endpoint] = []
    for name in env_list(env, "LLM_ENDPOINTS"):
        if not NAME_PATTERN.fullmatch(name) or name == "default":
            raise SettingsError(
                f"LLM_ENDPOINTS: {shown(name)} is not a usable endpoint name (letters, digits, "
                "- and _; `default` is the LLM_* endpoint)"
            )
        prefix = endpoint_prefix(name)
        provider = env_provider(env, prefix + "PROVIDER")
        if provider is None:
            raise SettingsError(f"{prefix}PROVIDER is not set for LLM endpoint {name!r}")
        models = env_list(env, prefix + "MODELS")
        model = env.get(prefix + "MODEL") or None
        if not models and not model:
            raise SettingsError(f"set {prefix}MODEL or {prefix}MODELS for LLM endpoint {name!r}")
        endpoints.append(
            Endpoint(
                name,
                provider,
                env.get(prefix + "BASE_URL") or None,
                env.get(prefix + "API_KEY") or None,
                env_headers(env, prefix + "HEADERS"),
                models,
                model,
            )
        )
    if len({e.name for e in endpoints}) != len(endpoints):
        raise SettingsError("LLM_ENDPOINTS names an endpoint twice")
    return tuple(endpoints)


def env_formatters(env: Mapping[str, str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """FORMATTERS="ruff=ruff format;black=black -q": the only commands a repository can have
    the server run, each an exact argv (no shell) that the changed paths are appended to."""
    formatters: list[tuple[str, tuple[str, ...]]] = []
    for item in filter(None, (part.strip() for part in (env.get("FORMATTERS") or "").split(";"))):
        name, sep, command = item.partition("=")
        try:
            argv = tuple(shlex.split(command))
        except ValueError:
            argv = ()
        if not sep or not NAME_PATTERN.fullmatch(name.strip()) or not argv:
            raise SettingsError(
                "FORMATTERS must look like 'ruff=ruff format;black=black -q' (name=command)"
            )
        formatters.append((name.strip(), argv))
    return tuple(formatters)


def env_ceilings(env: Mapping[str, str]) -> Ceilings:
    defaults = Ceilings()
    values: dict[str, Any] = {}
    for f in fields(Ceilings):
        if f.name == "monthly_budget_usd":
            continue  # INSTALLATION_MONTHLY_BUDGET_USD, kept as its own setting
        var, default = CEILING_SETTINGS[f.name], getattr(defaults, f.name)
        if isinstance(default, bool):
            values[f.name] = env_bool(env, var, default)
        elif isinstance(default, float):
            values[f.name] = env_float(env, var, default)
        else:
            values[f.name] = env_int(env, var, default, minimum=0)
    return Ceilings(**values)


def env_metrics_token(env: Mapping[str, str]) -> str | None:
    """METRICS_TOKEN as a scraper can send it: visible ASCII, no spaces (a header value)."""
    raw = (env.get("METRICS_TOKEN") or "").strip()
    if not raw:
        return None
    if not all(33 <= ord(c) <= 126 for c in raw):
        # Never echoed: it is a secret, perhaps pasted with a stray character.
        raise SettingsError(
            "METRICS_TOKEN must be visible ASCII characters without spaces "
            "(e.g. the output of `openssl rand -hex 32`)"
        )
    return raw


def env_pricing(env: Mapping[str, str]) -> tuple[tuple[str, float, float], ...]:
    """LLM_PRICING: `model:input_usd_per_mtok:output_usd_per_mtok,…`."""
    pricing = []
    for item in filter(None, (env.get("LLM_PRICING") or "").split(",")):
        try:
            model, inp, out = item.rsplit(":", 2)  # Ollama names hold one: llama3.1:8b
            pricing.append((model.strip(), float(inp), float(out)))
        except ValueError:
            raise SettingsError(
                "LLM_PRICING must look like 'model:input_usd_per_mtok:output_usd_per_mtok,…'"
            ) from None
    return tuple(pricing)
