"""`issuewright check`, the LLM lines: each endpoint the operator configured answers (its
models list, or a one-token call), each of its models has a price (the app refuses to call an
unpriced one), and which endpoint a repository that names none gets."""

from __future__ import annotations

import asyncio

from bot.core.checkup import NETWORK_TIMEOUT, Check, model_names
from bot.core.env_values import endpoint_prefix
from bot.core.policy import Endpoint
from bot.llm import AuthenticationError, ConfigurationError, LLMError, PricingTable
from bot.llm.probe import probe_endpoint
from bot.logs import scrub
from bot.settings import Settings


def _variables(endpoint: Endpoint) -> tuple[str, str, str]:
    """The settings an endpoint comes from: (base URL, API key, model)."""
    if endpoint.name == "default":
        return "LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL"
    prefix = endpoint_prefix(endpoint.name)
    return f"{prefix}BASE_URL", f"{prefix}API_KEY", f"{prefix}MODEL"


async def check_endpoint(settings: Settings, endpoint: Endpoint) -> Check:
    """The endpoint answers: its models list, or (without one) a one-token call."""
    name = f"llm {endpoint.name}"
    url_var, key_var, model_var = _variables(endpoint)
    where = endpoint.base_url or f"{endpoint.provider}'s API"
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT):
            listed = await probe_endpoint(
                endpoint.provider,
                endpoint.base_url,
                endpoint.api_key,
                endpoint.headers,
                endpoint.model,
                http_timeout=NETWORK_TIMEOUT,
            )
    except TimeoutError:
        detail = f"no answer from {where} in {NETWORK_TIMEOUT:g} s"
        return Check(name, False, scrub(detail, settings.secrets()), _up(url_var))
    except AuthenticationError as exc:
        detail = f"{where} refused the API key ({exc.status_code or 'no status'})"
        return Check(name, False, scrub(detail, settings.secrets()), f"check {key_var}")
    except ConfigurationError as exc:  # no model, no key for Anthropic's API, not a URL
        hint = f"check {url_var}, {key_var} and {model_var}"
        return Check(name, False, scrub(exc.detail, settings.secrets()), hint)
    except LLMError as exc:
        detail = str(exc)[:240]  # "openai: ConnectError talking to …", "openai HTTP 404: …"
        if exc.status_code:
            detail = f"{where} answered HTTP {exc.status_code}: {exc.detail[:160]}"
        return Check(name, False, scrub(detail, settings.secrets()), _up(url_var))
    if listed is None:
        detail = f"{endpoint.provider} at {where} answered a one-token call (no models list)"
    else:
        named = model_names(endpoint.default_model, endpoint.models)
        unlisted = [m for m in named if m not in listed]
        note = f"; it does not list {', '.join(unlisted)}" if unlisted else ""
        detail = f"{endpoint.provider} at {where} answers ({len(listed)} models listed{note})"
    return Check(name, True, scrub(detail, settings.secrets()))


def _up(url_var: str) -> str:
    return f"check {url_var} and that the server is up (and reachable from here)"


def check_llm(settings: Settings, answered: list[Check]) -> list[Check]:
    """The endpoints' lines (from `check_endpoint`), each followed by its prices, and which
    endpoint a repository that names none gets."""
    policy = settings.policy
    if not policy.endpoints:
        return [
            Check(
                "llm",
                False,
                "no LLM endpoint configured: the app can only plan",
                "set LLM_PROVIDER, LLM_MODEL and LLM_API_KEY (and LLM_BASE_URL), or LLM_ENDPOINTS",
            )
        ]
    prices = PricingTable(settings.llm_pricing_overrides)
    checks: list[Check] = []
    for endpoint, line in zip(policy.endpoints, answered, strict=True):
        checks += [line, _prices(endpoint, prices)]
    default = policy.endpoint(None)
    if default is None and settings.llm_default_endpoint:
        names = ", ".join(e.name for e in policy.endpoints)
        detail = f"LLM_DEFAULT_ENDPOINT names {settings.llm_default_endpoint!r}, not one of {names}"
        checks.append(Check("default endpoint", False, detail, "fix LLM_DEFAULT_ENDPOINT"))
    elif default is None:
        detail = "none: repositories that name no llm_endpoint only get plans"
        checks.append(Check("default endpoint", True, detail))
    elif len(policy.endpoints) > 1:
        detail = f"{default.name}, for repositories that name no llm_endpoint"
        checks.append(Check("default endpoint", True, detail))
    return checks


def _prices(endpoint: Endpoint, prices: PricingTable) -> Check:
    name = f"llm {endpoint.name} prices"
    models = model_names(endpoint.default_model, endpoint.models)
    unpriced = [m for m in models if not prices.is_known(m)]
    if unpriced:
        return Check(
            name,
            False,
            f"no price for {', '.join(unpriced)}: the app refuses to call an unpriced model",
            f"add LLM_PRICING={unpriced[0]}:IN:OUT (USD per million input and output tokens; "
            "0:0 for a free local model), comma-separated for several",
        )
    shown = ", ".join(
        f"{m} ${p.input_per_mtok:g}/${p.output_per_mtok:g}"
        for m, p in ((m, prices.price(m)) for m in models)
    )
    if "*" in endpoint.models:
        shown += " (and any model the price table knows)"
    return Check(name, True, f"{shown} per million tokens in/out")
