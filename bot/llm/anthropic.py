"""Anthropic Messages API (`POST /v1/messages`), plain and streamed.

Anthropic names its errors (`error.type`), so classification keys on those rather than on
status codes; the status is the fallback for bodies that are not Anthropic's (a proxy's 502).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from .base import (
    AuthenticationError,
    ContentFilteredError,
    ContextTooLongError,
    FinishReason,
    InvalidRequestError,
    LLMError,
    LLMRequest,
    LLMResponse,
    MalformedResponseError,
    ProviderUnavailableError,
    QuotaError,
    RateLimitedError,
    error_detail,
    iter_sse,
    snippet,
)
from .limits import DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_RESPONSE_BYTES
from .retry import RetryingHTTPClient, RetryPolicy, parse_retry_after
from .streamed import TokenMeter

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
}
_UNAVAILABLE = {"api_error", "overloaded_error", "timeout_error", "gateway_timeout_error"}


def messages_url(base_url: str | None) -> str:
    base = (base_url or DEFAULT_BASE_URL).rstrip("/").removesuffix("/messages")
    return base.removesuffix("/v1") + "/v1/messages"


def classify_error(
    status: int | None,
    body: Any,
    headers: Mapping[str, str],
    provider: str = "anthropic",
    text: str = "",
) -> LLMError:
    kind, _, message = error_detail(body, snippet(text) or f"HTTP {status}")
    lowered = message.lower()
    request_id = headers.get("request-id")
    if request_id is None and isinstance(body, dict):
        request_id = body.get("request_id")
    kw: dict[str, Any] = {"provider": provider, "status_code": status, "request_id": request_id}
    if kind in ("authentication_error", "permission_error") or status in (401, 403):
        return AuthenticationError(message, **kw)
    # A 400 invalid_request_error is also how Anthropic says the credit balance is too low.
    if kind == "billing_error" or status == 402 or "credit balance" in lowered:
        return QuotaError(message, **kw)
    if kind == "rate_limit_error" or status == 429:
        return RateLimitedError(message, retry_after=parse_retry_after(headers), **kw)
    if "prompt is too long" in lowered or kind == "request_too_large" or status == 413:
        return ContextTooLongError(message, **kw)
    if kind in _UNAVAILABLE or status is None or status == 408 or status >= 500:
        # 529 overloaded may also carry retry-after; honour it like a 429's.
        return ProviderUnavailableError(message, retry_after=parse_retry_after(headers), **kw)
    return InvalidRequestError(message, **kw)


class AnthropicClient(RetryingHTTPClient):
    provider = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        extra_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        timeout: float = 120.0,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        headers = {"user-agent": "issuewright", "anthropic-version": API_VERSION}
        headers.update(dict(extra_headers))
        if api_key:
            headers["x-api-key"] = api_key
        super().__init__(
            model=model,
            url=messages_url(base_url),
            api_key=api_key,
            headers=headers,
            timeout=timeout,
            http_client=http_client,
            retry=retry,
            deadline_seconds=deadline_seconds,
            max_response_bytes=max_response_bytes,
        )

    @property
    def models_url(self) -> str:
        return self.url.removesuffix("/messages") + "/models?limit=1000"  # its largest page

    def build_body(self, request: LLMRequest) -> dict[str, Any]:
        # Anthropic takes the system prompt beside the conversation, not inside it.
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "max_tokens": request.max_tokens,
            "messages": [
                {"role": m.role, "content": m.content}
                for m in request.messages
                if m.role != "system"
            ],
        }
        if system:
            body["system"] = system
        # No `temperature`: newer Claude models answer 400 "temperature is deprecated for this
        # model", API version 2026-10-21 refuses it for all, and SDK 2.x no longer sends it.
        if request.json_schema is not None:
            body["output_config"] = {
                "format": {"type": "json_schema", "schema": dict(request.json_schema)}
            }
        if request.stream:
            body["stream"] = True
        return body

    # ------------------------------------------------------------ parsing

    def _classify(self, status: int, body: Any, headers: httpx.Headers, text: str) -> LLMError:
        return classify_error(status, body, headers, self.provider, text)

    def _read_completion(self, resp: httpx.Response, request: LLMRequest) -> LLMResponse:
        return self._read_message(self._json(resp.text), request)

    def _json(self, text: str) -> Any:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise MalformedResponseError(
                f"not a JSON object: {self._redact(snippet(text))!r}",
                provider=self.provider,
            )
        return data

    def _read_message(self, data: dict[str, Any], request: LLMRequest) -> LLMResponse:
        if data.get("type") == "error":
            raise classify_error(None, data, {}, self.provider)
        content = data.get("content")
        usage = data.get("usage")
        if (
            data.get("type") != "message"
            or not isinstance(content, list)
            or not isinstance(usage, dict)
        ):
            raise MalformedResponseError("answer is not a message", provider=self.provider)
        # Only text blocks are the answer; thinking or tool blocks are not ours to apply.
        text = "".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
        return self._finish(request, text, data.get("stop_reason"), data.get("model"), usage)

    async def _read_stream(self, resp: httpx.Response, request: LLMRequest) -> LLMResponse:
        parts: list[str] = []
        usage: dict[str, Any] = {}
        stop_reason: str | None = None
        model: str | None = None
        stopped = False
        meter = TokenMeter(request.progress, self._max_response_bytes, self.provider)
        async for event in iter_sse(resp):
            data = self._json(event.data)
            kind = data.get("type")
            if kind == "error":  # e.g. overloaded_error after the 200 was sent
                raise classify_error(None, data, resp.headers, self.provider)
            if kind == "message_start":
                message = data.get("message") or {}
                model = message.get("model")
                usage.update(message.get("usage") or {})
            elif kind == "content_block_delta":
                delta = data.get("delta") or {}
                if delta.get("type") == "text_delta":
                    parts.append(str(delta.get("text", "")))
                    meter.text(parts[-1])
                elif delta.get("type") == "thinking_delta":  # billed as output, not the answer
                    meter.text(str(delta.get("thinking", "")))
            elif kind == "message_delta":
                stop_reason = (data.get("delta") or {}).get("stop_reason") or stop_reason
                # message_delta usage is cumulative: it replaces, never adds to, the start's.
                usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
                meter.reported(usage.get("output_tokens"))
            elif kind == "message_stop":
                stopped = True
                break
        if not stopped:
            raise MalformedResponseError(
                f"stream ended without message_stop after {len(''.join(parts))} characters",
                provider=self.provider,
            )
        return self._finish(request, "".join(parts), stop_reason, model, usage)

    def _finish(
        self, request: LLMRequest, text: str, stop_reason: Any, model: Any, usage: dict[str, Any]
    ) -> LLMResponse:
        if stop_reason == "refusal":
            raise ContentFilteredError("stop_reason refusal", provider=self.provider)
        if stop_reason is None or "input_tokens" not in usage or "output_tokens" not in usage:
            raise MalformedResponseError(
                "answer has no stop_reason or usage", provider=self.provider
            )
        if request.json_schema is not None:
            try:
                json.loads(text)
            except ValueError:
                raise MalformedResponseError(
                    "asked for JSON, got text that does not parse", provider=self.provider
                ) from None
        # Cached prompt tokens are still prompt tokens; counting them at full price errs high.
        input_tokens = sum(
            int(usage.get(k) or 0)
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return LLMResponse(
            text=text,
            model=str(model or request.model or self.model),
            input_tokens=input_tokens,
            output_tokens=int(usage.get("output_tokens") or 0),
            finish_reason=_FINISH.get(str(stop_reason), "other"),
            usage=usage,
            provider=self.provider,
        )
