"""Does an LLM endpoint answer? `issuewright check` asks each endpoint the operator configured.

Its models list first (no tokens spent); an endpoint without one (404/405) gets the smallest
real call instead: one output token. One attempt, no retry, each request bounded by
`http_timeout` (the caller bounds the whole).
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from .base import ChatMessage, LLMRequest
from .factory import make_client
from .retry import RetryingHTTPClient, RetryPolicy


async def probe_endpoint(
    provider: str,
    base_url: str | None,
    api_key: str | None,
    headers: Iterable[tuple[str, str]],
    model: str | None,
    *,
    http_timeout: float,
    http_client: httpx.AsyncClient | None = None,
) -> list[str] | None:
    """The model ids the endpoint lists, or None when it has no list and answered a one-token
    call instead. Every failure is an `LLMError` (ConfigurationError for a missing model)."""
    client = make_client(
        provider,
        base_url,
        api_key,
        model,
        tuple(headers),
        timeout=http_timeout,
        http_client=http_client,
        retry=RetryPolicy(max_attempts=1),
        deadline_seconds=http_timeout,
    )
    try:
        models = await client.list_models() if isinstance(client, RetryingHTTPClient) else None
        if models is None:
            ping = [ChatMessage("user", "Reply with OK.")]
            await client.complete(LLMRequest(ping, max_tokens=1, temperature=None))
        return models
    finally:
        await client.aclose()
