"""An LLM answer that never ends: a local endpoint that trickles one byte at a time is cut at
the call's deadline, one that sends an endless body is cut at the size cap; both with a typed,
non-retried error that names the operator setting, and the connection is closed."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest

from bot.llm import (
    ChatMessage,
    DeadlineExceededError,
    LLMError,
    LLMRequest,
    ProviderUnavailableError,
    ResponseTooLargeError,
    RetryPolicy,
    make_client,
)
from tests.llm.hostile import HostileEndpoint

PROVIDERS = ["openai", "anthropic"]
MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5"}
KEY = "sk-test-limits-0123456789"
# Only a safety net so a regression fails instead of hanging; no assertion is about time.
SAFETY = 30.0


def request(stream: bool) -> LLMRequest:
    return LLMRequest(messages=[ChatMessage("user", "Fix the bug.")], stream=stream)


async def call(endpoint: HostileEndpoint, provider: str, stream: bool, **limits: Any) -> LLMError:
    async with endpoint.serve() as base_url:
        client = make_client(
            provider,
            base_url=base_url,
            api_key=KEY,
            model=MODEL[provider],
            timeout=SAFETY,  # per read: never what stops these answers
            **limits,
        )
        try:
            with pytest.raises(LLMError) as caught:
                await asyncio.wait_for(client.complete(request(stream)), SAFETY)
        finally:
            await client.aclose()
        # The client hung up on the endpoint: nothing keeps reading in the background.
        await asyncio.wait_for(endpoint.hung_up.wait(), SAFETY)
    return caught.value


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_trickling_answer_stops_at_the_deadline(provider: str, stream: bool) -> None:
    # Keep-alive comments (a stream) or JSON whitespace (a plain answer), one byte at a time:
    # every read gets data, so a per-read timeout never fires.
    trickle = b":\n" if stream else b" "
    endpoint = HostileEndpoint(
        chunk=lambda n: trickle[n % len(trickle) : n % len(trickle) + 1],
        content_type="text/event-stream" if stream else "application/json",
        pace=0.005,
    )
    error = await call(endpoint, provider, stream, deadline_seconds=0.5)
    assert isinstance(error, DeadlineExceededError), repr(error)
    assert endpoint.answering.is_set() and endpoint.bytes_sent > 0  # cut mid-answer
    assert endpoint.connections == 1  # not retried
    assert not error.retryable
    message = error.user_message
    assert "LLM_DEADLINE_SECONDS" in message and "0.5 s" in message
    assert "/issuewright retry" in message and "127.0.0.1" not in message


def openai_event(n: int) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": {"content": "x" * 500}}], "model": "m"}
    return f"data: {json.dumps(chunk)}\n\n".encode()


def anthropic_event(n: int) -> bytes:
    delta = {"type": "content_block_delta", "index": 0}
    delta["delta"] = {"type": "text_delta", "text": "x" * 500}  # type: ignore[assignment]
    return f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n".encode()


ENDLESS = {
    # Valid events that never stop: the answer keeps growing in memory.
    ("openai", "events"): (openai_event, "text/event-stream", True),
    ("anthropic", "events"): (anthropic_event, "text/event-stream", True),
    # One line that never ends: a line reader would buffer it whole.
    ("openai", "one-line"): (lambda n: b"y" * 16384, "text/event-stream", True),
    ("anthropic", "one-line"): (lambda n: b"y" * 16384, "text/event-stream", True),
    # A plain answer whose JSON never closes.
    ("openai", "json"): (lambda n: b"a" * 16384, "application/json", False),
    ("anthropic", "json"): (lambda n: b"a" * 16384, "application/json", False),
}


@pytest.mark.parametrize(("provider", "shape"), list(ENDLESS))
async def test_an_endless_answer_stops_at_the_size_cap(provider: str, shape: str) -> None:
    chunk, content_type, stream = ENDLESS[(provider, shape)]
    head = b'{"choices": [{"message": {"content": "' if not stream else b""
    endpoint = HostileEndpoint(chunk=chunk, content_type=content_type, head=head)
    error = await call(endpoint, provider, stream, max_response_bytes=200_000)
    assert isinstance(error, ResponseTooLargeError), repr(error)
    assert endpoint.connections == 1 and not error.retryable
    message = error.user_message
    assert "LLM_MAX_RESPONSE_BYTES" in message and "200,000 bytes" in message
    assert "/issuewright retry" in message and "127.0.0.1" not in message


async def test_the_cap_counts_decoded_bytes_not_compressed_ones() -> None:
    # 20 KB on the wire that unpack to 20 MB: the cap applies to what the client holds.
    bomb = gzip.compress(b'{"choices": [{"message": {"content": "' + b"z" * 20_000_000)
    assert len(bomb) < 200_000
    endpoint = HostileEndpoint(
        chunk=lambda n: b"", head=bomb, extra_headers=("content-encoding: gzip",)
    )
    error = await call(endpoint, "openai", False, max_response_bytes=1_000_000)
    assert isinstance(error, ResponseTooLargeError), repr(error)


async def test_an_endless_error_answer_is_classified_by_its_status() -> None:
    # Only the start of an error body is read; the 503 still counts as the provider being down.
    endpoint = HostileEndpoint(chunk=lambda n: b"e" * 16384, status="503 Service Unavailable")
    error = await call(
        endpoint, "openai", False, retry=RetryPolicy(max_attempts=1), max_response_bytes=10**9
    )
    assert isinstance(error, ProviderUnavailableError), repr(error)
    assert error.status_code == 503 and len(error.detail) < 1000


def test_the_limits_must_be_positive() -> None:
    with pytest.raises(LLMError, match="LLM_DEADLINE_SECONDS"):
        make_client("openai", model="m", deadline_seconds=0)
    with pytest.raises(LLMError, match="LLM_MAX_RESPONSE_BYTES"):
        make_client("openai", model="m", max_response_bytes=0)
