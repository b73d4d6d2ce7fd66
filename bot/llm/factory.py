"""Build the client for a provider name; the only place that knows which class serves which."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

from bot.core.repo_config import LLM_PROVIDERS

from .anthropic import AnthropicClient
from .base import ConfigurationError, LLMClient
from .limits import DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_RESPONSE_BYTES
from .openai_compat import OpenAICompatClient
from .retry import RetryPolicy

PROVIDERS = LLM_PROVIDERS  # the providers the app has clients for, declared with the config


def make_client(
    provider: str,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    timeout: float = 120.0,
    http_client: httpx.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> LLMClient:
    """`provider` is "openai" (any OpenAI-compatible endpoint) or "anthropic".

    The API key is optional for OpenAI-compatible servers (Ollama, llama.cpp run without one)
    but required by Anthropic's own API, where a missing key is a setup mistake worth naming
    before any request is made.

    `deadline_seconds` bounds the whole call (attempts, waits, the streamed answer) and
    `max_response_bytes` the answer's size: the operator's LLM_DEADLINE_SECONDS and
    LLM_MAX_RESPONSE_BYTES.
    """
    name = (provider or "").strip().lower()
    if not model:
        raise ConfigurationError(
            "no model configured (set `llm_model` or LLM_MODEL)", provider=name or "LLM"
        )
    if timeout <= 0:
        raise ConfigurationError(f"timeout must be positive, got {timeout}", provider=name)
    if deadline_seconds <= 0 or max_response_bytes <= 0:
        raise ConfigurationError(
            "LLM_DEADLINE_SECONDS and LLM_MAX_RESPONSE_BYTES must be positive", provider=name
        )
    if name == "openai":
        return OpenAICompatClient(
            model=model,
            base_url=base_url,
            api_key=api_key,
            extra_headers=extra_headers,
            timeout=timeout,
            http_client=http_client,
            retry=retry,
            deadline_seconds=deadline_seconds,
            max_response_bytes=max_response_bytes,
        )
    if name == "anthropic":
        if not api_key and base_url is None:
            raise ConfigurationError(
                "no API key for api.anthropic.com (set LLM_API_KEY)", provider=name
            )
        return AnthropicClient(
            model=model,
            base_url=base_url,
            api_key=api_key,
            extra_headers=extra_headers,
            timeout=timeout,
            http_client=http_client,
            retry=retry,
            deadline_seconds=deadline_seconds,
            max_response_bytes=max_response_bytes,
        )
    raise ConfigurationError(
        f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}", provider="LLM"
    )
