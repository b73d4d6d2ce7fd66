"""The one retry layer for LLM calls (tenacity).

Only transient failures are retried: 429 (not "insufficient quota"), 5xx / 529, timeouts and
dropped connections — the providers' clients turn those into `RateLimitedError` and
`ProviderUnavailableError`. Everything else (bad key, prompt too long, malformed answer) would
fail the same way again and costs money, so it goes straight to the caller.

Sleep and clock are injectable so tests drive the schedule without waiting.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from .base import (
    DeadlineExceededError,
    LLMError,
    LLMRequest,
    LLMResponse,
    redact,
    transport_error,
)
from .limits import DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_RESPONSE_BYTES, capped, read_error_body
from .streamed import TokenMeter

log = logging.getLogger("bot.llm")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

# tenacity 9.2 names the first wait `multiplier` and warns on `initial`, which older ones need.
_BACKOFF_SCALE = (
    "multiplier"
    if "multiplier" in inspect.signature(wait_exponential_jitter).parameters
    else "initial"
)
# Longest Retry-After we believe; anything above is a broken header, not a plan.
_MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    # Wall time for all attempts and waits; a Retry-After that would pass it stops retrying
    # at once, so the task can show "paused until …" instead of hanging.
    max_total_seconds: float = 180.0
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    jitter: float = 1.0
    sleep: Sleep = field(default=asyncio.sleep)
    clock: Clock = field(default=time.monotonic)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI), `retry-after` in seconds, or an HTTP date."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        try:
            return _clamp(float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if not raw:
        return None
    try:
        return _clamp(float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _clamp((when - (now or datetime.now(UTC))).total_seconds())


def _clamp(seconds: float) -> float | None:
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, LLMError) and exc.retryable


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]], policy: RetryPolicy, *, what: str = "LLM call"
) -> tuple[T, int]:
    """Run `attempt` until it succeeds or the policy gives up. Returns (result, attempts made).
    When it gives up, the last error is raised with `.attempts` set."""
    start = policy.clock()
    scale = {_BACKOFF_SCALE: policy.initial_backoff}
    backoff = wait_exponential_jitter(max=policy.max_backoff, jitter=policy.jitter, **scale)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        # The provider knows its own limits better than our backoff curve does.
        return float(retry_after) if retry_after is not None else float(backoff(state))

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        elapsed = policy.clock() - start
        return elapsed + state.upcoming_sleep > policy.max_total_seconds

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s failed (%s); retry %d of %d in %.1f s",
            what,
            exc,
            state.attempt_number,
            policy.max_attempts - 1,
            state.upcoming_sleep,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait,
        stop=stop,
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    attempts = 0
    try:
        async for try_ in retrying:
            with try_:
                attempts = try_.retry_state.attempt_number
                result = await attempt()
    except LLMError as exc:
        exc.attempts = attempts
        raise
    return result, attempts


class RetryingHTTPClient(ABC):
    """What both providers share: the HTTP client, timeouts, limits, logging, and the one
    retry layer around `_attempt`. Subclasses only build bodies and read answers."""

    provider: ClassVar[str]

    def __init__(
        self,
        *,
        model: str,
        url: str,
        api_key: str | None,
        headers: dict[str, str],
        timeout: float,
        http_client: httpx.AsyncClient | None,
        retry: RetryPolicy | None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.model = model
        self.url = url
        self._api_key = api_key
        self._headers = headers
        # Connecting should be quick even when generating is slow; read timeout is per chunk.
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._http = http_client or httpx.AsyncClient()
        self._owns_http = http_client is None  # an injected client belongs to the caller
        self._retry = retry or RetryPolicy()
        self._deadline = deadline_seconds
        self._max_response_bytes = max_response_bytes

    def __repr__(self) -> str:  # never the headers: they hold the key
        return f"{type(self).__name__}(url={self.url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    @abstractmethod
    def build_body(self, request: LLMRequest) -> dict[str, Any]: ...

    @abstractmethod
    def _read_completion(self, resp: httpx.Response, request: LLMRequest) -> LLMResponse: ...

    @abstractmethod
    async def _read_stream(self, resp: httpx.Response, request: LLMRequest) -> LLMResponse: ...

    @abstractmethod
    def _classify(self, status: int, body: Any, headers: httpx.Headers, text: str) -> LLMError: ...

    @property
    @abstractmethod
    def models_url(self) -> str:
        """Where the endpoint lists its models (`issuewright check` asks it, spending nothing)."""

    async def list_models(self) -> list[str] | None:
        """The model ids the endpoint lists, from one GET without retries; None when it has
        no models list (404 or 405: some gateways serve completions only)."""
        try:
            async with self._http.stream(
                "GET", self.models_url, headers=self._headers, timeout=self._timeout
            ) as raw:
                if raw.status_code in (404, 405):
                    return None
                if raw.status_code >= 400:
                    raise self._status_error(raw, await read_error_body(raw))
                resp = capped(raw, self._max_response_bytes, self.provider)
                await resp.aread()
        except httpx.TransportError as exc:
            raise transport_error(exc, self.provider, self.models_url) from None
        try:
            items = json.loads(resp.text).get("data")
        except (ValueError, AttributeError):
            items = None
        if not isinstance(items, list):  # OpenAI and Anthropic both answer {"data": [{"id"…}]}
            return None
        return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]

    async def complete(self, request: LLMRequest) -> LLMResponse:
        body = self.build_body(request)
        log.debug("LLM request to %s model=%s stream=%s", self.url, body["model"], request.stream)
        # Retries never plan a wait past the deadline: they give up with the real error first.
        policy = replace(
            self._retry, max_total_seconds=min(self._retry.max_total_seconds, self._deadline)
        )
        # The per-read timeout lets an endpoint that sends a byte now and then hold the worker
        # forever; this bounds the whole call, waits and streamed answer included.
        try:
            async with asyncio.timeout(self._deadline) as deadline:
                response, attempts = await call_with_retries(
                    lambda: self._attempt(body, request), policy, what=f"{self.provider} call"
                )
        except TimeoutError:
            if not deadline.expired():
                raise
            log.warning("LLM call to %s stopped at its %g s deadline", self.url, self._deadline)
            raise DeadlineExceededError(
                f"no complete answer within {self._deadline:g} s",
                provider=self.provider,
                limit_seconds=self._deadline,
            ) from None
        log.info(
            "LLM answer model=%s in=%d out=%d finish=%s attempts=%d",
            response.model,
            response.input_tokens,
            response.output_tokens,
            response.finish_reason,
            attempts,
        )
        # The provider's count, once: after a streamed answer's estimates, or the only one.
        TokenMeter(request.progress).final(response.output_tokens)
        return replace(response, attempts=attempts)

    async def _attempt(self, body: dict[str, Any], request: LLMRequest) -> LLMResponse:
        """Exactly one HTTP exchange; every failure leaves here as an LLMError."""
        headers = dict(self._headers)
        if request.stream:
            headers["accept"] = "text/event-stream"
        try:
            # Streamed either way, so the body is read chunk by chunk and never past the cap.
            async with self._http.stream(
                "POST", self.url, json=body, headers=headers, timeout=self._timeout
            ) as raw:
                if raw.status_code >= 400:
                    raise self._status_error(raw, await read_error_body(raw))
                events = request.stream and not _is_json(raw)
                resp = capped(raw, self._max_response_bytes, self.provider, events=events)
                if events:
                    return await self._read_stream(resp, request)
                # A server or proxy that ignores `stream` answers with one JSON body.
                await resp.aread()
                return self._read_completion(resp, request)
        except httpx.TransportError as exc:
            raise transport_error(exc, self.provider, self.url) from None

    def _status_error(self, resp: httpx.Response, text: str) -> LLMError:
        text = self._redact(text)
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        err = self._classify(resp.status_code, body, resp.headers, text)
        err.detail = self._redact(err.detail)
        return err

    def _redact(self, text: str) -> str:
        return redact(text, [self._api_key])


def _is_json(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")
