"""Fault injection: what is retried (and how often, and how long it waits), what is not, and
which typed error — with which message for the maintainer — comes out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from bot.llm import (
    AuthenticationError,
    ContentFilteredError,
    ContextTooLongError,
    LLMError,
    LLMRequest,
    MalformedResponseError,
    ProviderUnavailableError,
    QuotaError,
    RateLimitedError,
)
from tests.llm.recordings import ANTHROPIC_KEY, OPENAI_KEY, BrokenStream, FakeTime, client_for, load
from tests.llm.test_clients import PLAIN, STREAM, request_like

RATE_LIMITED = {
    "openai": ("openai_error_429_rate_limit.json", 2.0),
    "anthropic": ("anthropic_error_429.json", 7.0),
}
SERVER_ERROR = {"openai": "openai_error_500.json", "anthropic": "anthropic_error_529.json"}
PROVIDERS = ["openai", "anthropic"]


async def complete(
    provider: str, steps: list[Any], fake_time: FakeTime, *, stream: bool = False, **kw: Any
) -> tuple[Any, Any]:
    """(response or raised LLMError, script)."""
    request = request_like(STREAM[provider] if stream else PLAIN[provider])
    client, script = client_for(provider, steps, fake_time, **kw)
    try:
        return await client.complete(request), script
    except LLMError as exc:
        return exc, script
    finally:
        await client.aclose()


# ---------------------------------------------------------------- retried


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_429_waits_exactly_retry_after_then_succeeds(
    provider: str, fake_time: FakeTime
) -> None:
    name, seconds = RATE_LIMITED[provider]
    response, script = await complete(provider, [load(name), load(PLAIN[provider])], fake_time)
    assert response.attempts == 2 and len(script.requests) == 2
    assert fake_time.sleeps == [seconds]


async def test_429_with_an_http_date_retry_after(fake_time: FakeTime) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    limited = load("openai_error_429_rate_limit.json").response(headers={"retry-after": when})
    response, _ = await complete("openai", [limited, load(PLAIN["openai"])], fake_time)
    assert response.attempts == 2
    (slept,) = fake_time.sleeps
    assert 28 <= slept <= 30


async def test_429_gives_up_after_max_attempts_with_retry_after(fake_time: FakeTime) -> None:
    name, _ = RATE_LIMITED["openai"]
    error, script = await complete("openai", [load(name)] * 4, fake_time, max_attempts=4)
    assert isinstance(error, RateLimitedError)
    assert len(script.requests) == 4 and error.attempts == 4
    assert fake_time.sleeps == [2.0, 2.0, 2.0]
    assert error.retry_after == 2.0
    assert "tried 4 times" in error.user_message and "/issuewright retry" in error.user_message


async def test_retry_after_beyond_the_time_budget_stops_at_once(fake_time: FakeTime) -> None:
    limited = load("anthropic_error_429.json").response(headers={"retry-after": "600"})
    error, script = await complete("anthropic", [limited], fake_time, max_total_seconds=120)
    assert isinstance(error, RateLimitedError)
    assert len(script.requests) == 1 and fake_time.sleeps == []
    assert error.retry_after == 600  # so the caller can show "paused until …"


async def test_total_time_is_bounded_across_attempts(fake_time: FakeTime) -> None:
    limited = load("anthropic_error_429.json").response(headers={"retry-after": "50"})
    error, script = await complete(
        "anthropic", [limited] * 3, fake_time, max_attempts=10, max_total_seconds=120
    )
    assert isinstance(error, RateLimitedError)
    assert len(script.requests) == 3 and fake_time.sleeps == [50.0, 50.0]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_server_error_then_success(provider: str, fake_time: FakeTime) -> None:
    response, script = await complete(
        provider, [load(SERVER_ERROR[provider]), load(PLAIN[provider])], fake_time
    )
    assert response.attempts == 2 and len(script.requests) == 2
    (slept,) = fake_time.sleeps
    assert 1.0 <= slept <= 2.0  # first backoff step plus at most one second of jitter


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_server_errors_exhaust_bounded_attempts(provider: str, fake_time: FakeTime) -> None:
    error, script = await complete(
        provider, [load(SERVER_ERROR[provider])] * 3, fake_time, max_attempts=3
    )
    assert isinstance(error, ProviderUnavailableError)
    assert len(script.requests) == 3 and len(fake_time.sleeps) == 2
    assert "tried 3 times" in error.user_message


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ConnectError("[Errno 111] Connection refused"),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_transport_fault_then_success(
    provider: str, fault: Exception, fake_time: FakeTime
) -> None:
    response, script = await complete(provider, [fault, load(PLAIN[provider])], fake_time)
    assert response.attempts == 2 and len(script.requests) == 2


async def test_timeouts_exhausted_name_the_endpoint(fake_time: FakeTime) -> None:
    error, script = await complete("openai", [httpx.ReadTimeout("timed out")] * 4, fake_time)
    assert isinstance(error, ProviderUnavailableError)
    assert len(script.requests) == 4
    assert "ReadTimeout" in str(error) and "api.openai.com" in str(error)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_connection_reset_mid_stream_is_retried(provider: str, fake_time: FakeTime) -> None:
    whole = load(STREAM[provider])
    broken = httpx.Response(200, headers=whole.headers, stream=BrokenStream(whole.body[:700]))
    response, script = await complete(provider, [broken, whole], fake_time, stream=True)
    assert response.attempts == 2 and len(script.requests) == 2
    assert response.finish_reason == "stop"


async def test_overloaded_error_inside_an_anthropic_stream_is_retried(fake_time: FakeTime) -> None:
    steps = [load("anthropic_stream_overloaded.yaml"), load(STREAM["anthropic"])]
    response, _ = await complete("anthropic", steps, fake_time, stream=True)
    assert response.attempts == 2


# ---------------------------------------------------------------- not retried


def bad_stream(text: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text)


@pytest.mark.parametrize(
    ("provider", "steps", "stream", "error_type", "words"),
    [
        (
            "openai",
            [load("openai_chat_stream_truncated.yaml")],
            True,
            MalformedResponseError,
            "without",
        ),
        (
            "anthropic",
            [load("anthropic_stream_truncated.yaml")],
            True,
            MalformedResponseError,
            "message_stop",
        ),
        (
            "openai",
            [httpx.Response(200, text='{"id": "chatcmpl-x", "choices": [')],
            False,
            MalformedResponseError,
            "not JSON",
        ),
        (
            "anthropic",
            [httpx.Response(200, text='{"type": "message", "content": [')],
            False,
            MalformedResponseError,
            "not a JSON",
        ),
        ("openai", [bad_stream("data: {not json\n\n")], True, MalformedResponseError, "not JSON"),
        (
            "openai",
            [httpx.Response(200, text="<html>Welcome to nginx</html>")],
            False,
            MalformedResponseError,
            "nginx",
        ),
        (
            "openai",
            [load("openai_error_401.json")],
            False,
            AuthenticationError,
            "Incorrect API key",
        ),
        (
            "anthropic",
            [load("anthropic_error_401.json")],
            False,
            AuthenticationError,
            "invalid x-api-key",
        ),
        ("openai", [load("openai_error_429_quota.json")], False, QuotaError, "quota"),
        ("anthropic", [load("anthropic_error_credit.json")], False, QuotaError, "credit balance"),
        (
            "openai",
            [load("openai_error_context_length.json")],
            False,
            ContextTooLongError,
            "maximum context length",
        ),
        (
            "anthropic",
            [load("anthropic_error_prompt_too_long.json")],
            False,
            ContextTooLongError,
            "prompt is too long",
        ),
        (
            "openai",
            [load("openai_content_filter.json")],
            False,
            ContentFilteredError,
            "content_filter",
        ),
        ("anthropic", [load("anthropic_refusal.json")], False, ContentFilteredError, "refusal"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
async def test_permanent_failures_are_typed_and_not_retried(
    provider: str,
    steps: list[Any],
    stream: bool,
    error_type: type[LLMError],
    words: str,
    fake_time: FakeTime,
) -> None:
    error, script = await complete(provider, steps, fake_time, stream=stream)
    assert type(error) is error_type
    assert words in str(error)
    assert len(script.requests) == 1 and fake_time.sleeps == []
    assert error.attempts == 1


@pytest.mark.parametrize(
    ("error_type", "setting"),
    [
        (AuthenticationError, "LLM_API_KEY"),
        (QuotaError, "billing"),
        (ContextTooLongError, "context_budget_tokens"),
        (ContentFilteredError, "Reword"),
        (MalformedResponseError, "LLM_BASE_URL"),
    ],
)
def test_user_messages_say_what_to_do(error_type: type[LLMError], setting: str) -> None:
    message = error_type("detail", provider="openai", status_code=400).user_message
    assert setting in message and "/issuewright retry" in message


async def test_json_requested_but_prose_returned_is_malformed(fake_time: FakeTime) -> None:
    request = request_like(PLAIN["openai"], json_schema={"type": "object"})
    client, script = client_for("openai", [load(PLAIN["openai"])], fake_time)
    with pytest.raises(MalformedResponseError, match="JSON"):
        await client.complete(request)
    assert len(script.requests) == 1


# ---------------------------------------------------------------- secrets


def echoing_key(provider: str) -> httpx.Response:
    key = OPENAI_KEY if provider == "openai" else ANTHROPIC_KEY
    # A misbehaving proxy that repeats the whole key back in its error.
    return httpx.Response(502, text=f"upstream refused key {key} (bad gateway)")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("scenario", ["401", "echo", "timeout", "429", "truncated"])
async def test_api_key_never_in_errors_or_logs(
    provider: str, scenario: str, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = OPENAI_KEY if provider == "openai" else ANTHROPIC_KEY
    steps: dict[str, list[Any]] = {
        "401": [load(f"{provider}_error_401.json")],
        "echo": [echoing_key(provider)] * 2,
        "timeout": [httpx.ReadTimeout("timed out")] * 2,
        "429": [load(RATE_LIMITED[provider][0])] * 2,
        "truncated": [
            load(
                "openai_chat_stream_truncated.yaml"
                if provider == "openai"
                else "anthropic_stream_truncated.yaml"
            )
        ],
    }
    client, _ = client_for(provider, steps[scenario], fake_time, max_attempts=2)
    request: LLMRequest = request_like(
        STREAM[provider] if scenario == "truncated" else PLAIN[provider]
    )
    with pytest.raises(LLMError) as caught:
        await client.complete(request)
    error = caught.value
    for text in (
        str(error),
        repr(error),
        error.user_message,
        error.detail,
        repr(error.args),
        caplog.text,
        repr(client),
    ):
        assert key not in text
        assert key[8:20] not in text  # nor a recognisable part of it
    if scenario == "echo":
        assert "[redacted]" in str(error)
