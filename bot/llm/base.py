"""Types shared by every LLM provider: requests, responses, typed errors, the client protocol.

Providers speak different wire formats; everything above `bot/llm/` sees only these types, so
codegen never branches on the provider. Errors carry a `user_message` written for the
maintainer who reads the status comment (what failed, what to do: no URL, no response body),
and never contain the API key.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import httpx

Role = Literal["system", "user", "assistant"]
# Normalised across providers so callers test one vocabulary; the raw value stays in `usage`.
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "other"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class LLMRequest:
    messages: Sequence[ChatMessage]
    model: str | None = None  # None: the client's configured model
    max_tokens: int = 4096
    # None leaves it out (OpenAI reasoning models refuse it); Anthropic never gets it.
    temperature: float | None = 0.0
    json_schema: Mapping[str, Any] | None = None  # ask for structured output matching it
    schema_name: str = "answer"
    stream: bool = False
    # Called as the answer streams in, with the output tokens received so far (estimated from
    # the text until the provider reports usage). Synchronous and cheap: the caller throttles
    # whatever it does with it (a live display, a stored progress row, a comment edit).
    progress: Callable[[int], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LLMResponse:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: FinishReason
    usage: Mapping[str, Any] = field(default_factory=dict)  # provider's usage object, verbatim
    provider: str = ""
    attempts: int = 1  # HTTP attempts made, retries included (stored per attempt for costs)
    usage_estimated: bool = False  # True when the endpoint reported no usage and we estimated


@runtime_checkable
class LLMClient(Protocol):
    @property
    def provider(self) -> str:
        """ "openai" or "anthropic", for logs and stored attempts."""
        ...

    @property
    def model(self) -> str:
        """The model used when a request names none."""
        ...

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    async def aclose(self) -> None: ...


# ---------------------------------------------------------------- errors


class LLMError(Exception):
    """Base of every LLM failure. `str()` is for logs and the stored attempt; `user_message`
    is for maintainers reading a public comment."""

    retryable: ClassVar[bool] = False
    summary: ClassVar[str] = "The LLM call failed"
    hint: ClassVar[str] = "Comment `/issuewright retry` to try again."

    def __init__(
        self,
        detail: str,
        *,
        provider: str = "LLM",
        status_code: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        self.detail = detail
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.request_id = request_id
        self.attempts = 1
        super().__init__(detail)

    def __str__(self) -> str:
        status = f" HTTP {self.status_code}" if self.status_code else ""
        return f"{self.provider}{status}: {self.detail}"

    @property
    def user_message(self) -> str:
        """What failed and what to do, for a public comment. Never the detail: it can hold the
        endpoint's URL (with credentials in it) and the start of whatever the endpoint
        answered, so it goes to the log and the stored attempt instead."""
        status = f" (HTTP {self.status_code})" if self.status_code else ""
        return f"{self.summary}{status}. {self.guidance()}"

    def guidance(self) -> str:
        """What the maintainer can do about it; subclasses add what only they know."""
        return self.hint


class ConfigurationError(LLMError):
    summary = "The LLM is not configured correctly"
    hint = (
        "The server's operator sets LLM endpoints (LLM_PROVIDER, LLM_MODEL, LLM_API_KEY or "
        "LLM_ENDPOINTS); `.github/issuewright.yml` picks one with `llm_endpoint` and `llm_model`. "
        "Then comment `/issuewright retry`."
    )


class AuthenticationError(LLMError):
    summary = "The LLM provider rejected the API key"
    hint = (
        "Check LLM_API_KEY on the server (and its permissions), then comment `/issuewright retry`."
    )


class QuotaError(LLMError):
    summary = "The LLM account is out of quota or credit"
    hint = (
        "Add credit or raise the spending limit in the provider's billing settings, "
        "then comment `/issuewright retry`."
    )


class ContextTooLongError(LLMError):
    summary = "The prompt is longer than the model's context window"
    hint = (
        "Lower `context_budget_tokens` in `.github/issuewright.yml`, split the issue into "
        "smaller tasks or pick a model with a larger context, then comment `/issuewright retry`."
    )


class ContentFilteredError(LLMError):
    summary = "The provider's content filter blocked the answer"
    hint = "Reword the issue so the task is plainly about code, then comment `/issuewright retry`."


class MalformedResponseError(LLMError):
    summary = "The LLM endpoint sent a response the bot could not read"
    hint = (
        "Check that LLM_BASE_URL points at an OpenAI-compatible or Anthropic API; "
        "if it does, comment `/issuewright retry`."
    )


class InvalidRequestError(LLMError):
    summary = "The LLM provider refused the request"
    hint = (
        "Check that `llm_model` names a model this endpoint serves and that its options are "
        "supported, then comment `/issuewright retry`."
    )


class RateLimitedError(LLMError):
    """Raised once retries are exhausted; `retry_after` says when the provider allows more."""

    retryable = True
    summary = "The LLM provider is rate limiting the bot"

    def guidance(self) -> str:
        when = f"in about {self.retry_after:.0f} s" if self.retry_after is not None else "later"
        return (
            f"The bot tried {_times(self.attempts)}; the provider allows more requests {when}. "
            "Comment `/issuewright retry` then, or lower WORKER_CONCURRENCY."
        )


class ProviderUnavailableError(LLMError):
    """5xx, overload, timeouts and dropped connections, once retries are exhausted."""

    retryable = True
    summary = "The LLM provider is unavailable (server error, timeout or lost connection)"

    def guidance(self) -> str:
        tried = f"The bot tried {_times(self.attempts)}."
        if "timeout" in self.detail.lower() or "timed out" in self.detail.lower():
            # A slow local model is the usual cause: the server is up, the answer is long.
            return (
                f"{tried} The model did not answer in time: raise LLM_TIMEOUT_SECONDS on the "
                "server or lower `max_output_tokens` in `.github/issuewright.yml`, then comment "
                "`/issuewright retry`."
            )
        return (
            f"{tried} Check the provider's status page, or that the configured LLM server is "
            "running, then comment `/issuewright retry`."
        )


class DeadlineExceededError(LLMError):
    """The whole call (every attempt, the waits between them, the streamed answer) outlived
    LLM_DEADLINE_SECONDS. Not retried: an endpoint that trickles would hold the slot again."""

    summary = "The LLM did not finish its answer in time"

    def __init__(self, detail: str, *, limit_seconds: float, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.limit_seconds = limit_seconds

    def guidance(self) -> str:
        return (
            f"The server's limit is LLM_DEADLINE_SECONDS ({self.limit_seconds:g} s): lower "
            "`max_output_tokens` in "
            "`.github/issuewright.yml` or ask the operator to raise it, then comment "
            "`/issuewright retry`."
        )


class ResponseTooLargeError(LLMError):
    """The answer passed LLM_MAX_RESPONSE_BYTES; reading stopped there. Not retried: the
    same request would get the same answer."""

    summary = "The LLM endpoint sent a larger answer than the server accepts"

    def __init__(self, detail: str, *, limit_bytes: int, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.limit_bytes = limit_bytes

    def guidance(self) -> str:
        return (
            f"The server's limit is LLM_MAX_RESPONSE_BYTES ({self.limit_bytes:,} bytes): lower "
            "`max_output_tokens` in "
            "`.github/issuewright.yml` or ask the operator to raise it, then comment "
            "`/issuewright retry`."
        )


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


# ---------------------------------------------------------------- secrets

# Provider keys that error bodies echo back partly masked ("sk-abc1****wxyz"): hide them too.
_KEY_PATTERN = re.compile(r"\b(sk-ant-|sk-|gsk_|xai-)[A-Za-z0-9_\-*.]{4,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets and anything shaped like an API key from text bound for logs or users."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub(lambda m: m.group(1) + "[redacted]", text)


def error_detail(body: Any, fallback: str) -> tuple[str | None, str | None, str]:
    """(type, code, message) from `{"error": {...}}` bodies both providers use."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or fallback)
        kind = error.get("type")
        code = error.get("code")
        return (str(kind) if kind else None, str(code) if code else None, message)
    if isinstance(error, str):  # some compatible servers (older llama.cpp, proxies) send a string
        return (None, None, error)
    return (None, None, fallback)


# ---------------------------------------------------------------- server-sent events


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str


async def iter_sse(response: httpx.Response) -> AsyncIterator[SSEEvent]:
    """Server-sent events per the WHATWG rules the providers follow. An event is only yielded
    once its terminating blank line arrives, so a cut-off final event is dropped, not parsed."""
    event = ""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield SSEEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):  # comment / keep-alive (OpenRouter, some proxies)
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value


# ---------------------------------------------------------------- transport


def transport_error(exc: httpx.TransportError, provider: str, url: str) -> LLMError:
    """Turn httpx's transport failures into our types; timeouts and resets are transient."""
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ProviderUnavailableError(f"{name}: no answer from {url} in time", provider=provider)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigurationError(
            f"{url} is not an http(s) URL; set LLM_BASE_URL like http://localhost:8080/v1",
            provider=provider,
        )
    # Connection refused or reset, server hung up mid-answer: worth another try.
    return ProviderUnavailableError(f"{name} talking to {url}: {exc}", provider=provider)


def snippet(text: str, limit: int = 300) -> str:
    """The start of a body we could not parse, for the error detail (redacted by the caller)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
