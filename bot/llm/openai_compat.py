"""OpenAI-compatible `/v1/chat/completions` (OpenAI, Groq, Together, Ollama, vLLM, llama.cpp).

One HTTP attempt lives in `_attempt`; retries are `retry.call_with_retries`' job alone, so no
status is ever retried twice by two layers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.core.budget import estimate_tokens

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

log = logging.getLogger("bot.llm")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_CONTEXT_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context window",
    "exceed_context_size",  # llama.cpp's error type
    "exceeds the available context",
    "prompt is too long",
    "too many tokens",
)
_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


def chat_completions_url(base_url: str | None) -> str:
    """`…/v1` + `/chat/completions`. A bare host gets `/v1`, as every compatible server serves."""
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    base = base.removesuffix("/chat/completions")
    if urlsplit(base).path in ("", "/"):
        base += "/v1"
    return base + "/chat/completions"


def classify_error(
    status: int | None, body: Any, headers: Mapping[str, str], provider: str, text: str = ""
) -> LLMError:
    """Map an error answer (status + `{"error": {...}}`) to the error a maintainer can act on."""
    kind, code, message = error_detail(body, snippet(text) or f"HTTP {status}")
    tags = f"{kind or ''} {code or ''} {message}".lower()
    request_id = headers.get("x-request-id")
    kw: dict[str, Any] = {"provider": provider, "status_code": status, "request_id": request_id}
    if status in (401, 403) or code == "invalid_api_key":
        return AuthenticationError(message, **kw)
    if status == 402 or "insufficient_quota" in tags or "billing" in tags:
        return QuotaError(message, **kw)
    if status == 429:
        return RateLimitedError(message, retry_after=parse_retry_after(headers), **kw)
    if any(phrase in tags for phrase in _CONTEXT_PHRASES) or status == 413:
        return ContextTooLongError(message, **kw)
    if "content_filter" in tags or "content_policy" in tags:
        return ContentFilteredError(message, **kw)
    if status is None or status == 408 or status >= 500 or kind == "server_error":
        return ProviderUnavailableError(message, **kw)
    return InvalidRequestError(message, **kw)


class OpenAICompatClient(RetryingHTTPClient):
    provider = "openai"

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
        headers = {"user-agent": "issuewright", **dict(extra_headers)}
        if api_key:  # Ollama and llama.cpp need none; "Bearer None" would confuse proxies
            headers["authorization"] = f"Bearer {api_key}"
        url = chat_completions_url(base_url)
        super().__init__(
            model=model,
            url=url,
            api_key=api_key,
            headers=headers,
            timeout=timeout,
            http_client=http_client,
            retry=retry,
            deadline_seconds=deadline_seconds,
            max_response_bytes=max_response_bytes,
        )
        # OpenAI's own API wants max_completion_tokens (reasoning models refuse max_tokens);
        # the compatible servers all understand max_tokens.
        on_openai = urlsplit(url).hostname == "api.openai.com"
        self._max_tokens_field = "max_completion_tokens" if on_openai else "max_tokens"
        # Strict servers (Azure serverless, Mistral, pydantic-validated proxies) refuse
        # `stream_options` with a 400 or 422; after one such answer it is left out.
        self._stream_options = True
        self._stream = True

    @property
    def models_url(self) -> str:
        return self.url.removesuffix("/chat/completions") + "/models"

    def build_body(self, request: LLMRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            self._max_tokens_field: request.max_tokens,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.json_schema is not None:
            schema = {"name": request.schema_name, "schema": dict(request.json_schema)}
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {**schema, "strict": True},
            }
        if request.stream and self._stream:
            body["stream"] = True
            if self._stream_options:
                # Without this the stream carries no token counts, and costs would be guesses.
                body["stream_options"] = {"include_usage": True}
        return body

    async def _attempt(self, body: dict[str, Any], request: LLMRequest) -> LLMResponse:
        while True:
            try:
                return await super()._attempt(body, request)
            except InvalidRequestError as exc:
                if not self._leave_out(body, exc.detail):
                    raise

    def _leave_out(self, body: dict[str, Any], detail: str) -> bool:
        """Whether a refusal names a streaming field this client can do without; if so it is
        left out of `body` and of this client's later requests."""
        if "stream_options" in body and "stream_options" in detail:
            # Usage then comes from servers that send it anyway (llama.cpp), else is estimated.
            self._stream_options = False
            body.pop("stream_options")
        elif body.get("stream") and re.search(r"\bstream\b", detail):  # not "upstream"
            # A model or gateway that cannot stream ("'stream' does not support true"): one
            # plain answer instead, heard by `progress` once at the end.
            self._stream = False
            body.pop("stream")
            body.pop("stream_options", None)
        else:
            return False
        log.warning("%s refused %s; asking without it from now on", self.url, detail[:200])
        return True

    # ------------------------------------------------------------ parsing

    def _classify(self, status: int, body: Any, headers: httpx.Headers, text: str) -> LLMError:
        return classify_error(status, body, headers, self.provider, text)

    def _json(self, text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise MalformedResponseError(
                f"not JSON: {self._redact(snippet(text))!r}", provider=self.provider
            ) from None

    def _read_completion(self, resp: httpx.Response, request: LLMRequest) -> LLMResponse:
        data = self._json(resp.text)
        if not isinstance(data, dict):
            raise MalformedResponseError("answer is not a JSON object", provider=self.provider)
        if "error" in data:  # some proxies answer 200 with an error body
            raise classify_error(None, data, resp.headers, self.provider)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedResponseError("answer has no choices", provider=self.provider)
        message = choices[0].get("message") or {}
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise MalformedResponseError("message content is not text", provider=self.provider)
        return self._finish(
            request,
            text=content or "",
            refusal=message.get("refusal"),
            finish=choices[0].get("finish_reason"),
            model=data.get("model"),
            usage=data.get("usage"),
        )

    async def _read_stream(self, resp: httpx.Response, request: LLMRequest) -> LLMResponse:
        parts: list[str] = []
        refusal: list[str] = []
        finish: str | None = None
        model: str | None = None
        usage: dict[str, Any] | None = None
        done = False
        meter = TokenMeter(request.progress, self._max_response_bytes, self.provider)
        async for event in iter_sse(resp):
            if event.data.strip() == "[DONE]":
                done = True
                break
            chunk = self._json(event.data)
            if not isinstance(chunk, dict):
                raise MalformedResponseError(
                    "stream chunk is not an object", provider=self.provider
                )
            if "error" in chunk:  # errors after the 200 arrive inside the stream
                raise classify_error(None, chunk, resp.headers, self.provider)
            model = chunk.get("model") or model
            if isinstance(chunk.get("usage"), dict):
                usage = chunk["usage"]
                meter.reported(usage.get("completion_tokens"))  # vLLM may send it per chunk
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta") or {}
                if isinstance(delta.get("content"), str):
                    parts.append(delta["content"])
                    meter.text(delta["content"])
                for thinking in ("reasoning_content", "reasoning"):  # llama.cpp, vLLM, Ollama
                    if isinstance(delta.get(thinking), str):
                        meter.text(delta[thinking])
                if isinstance(delta.get("refusal"), str):
                    refusal.append(delta["refusal"])
                finish = choice.get("finish_reason") or finish
        if not done or finish is None:
            missing = "[DONE]" if finish is not None else "a finish_reason"
            raise MalformedResponseError(
                f"stream ended without {missing} after {len(''.join(parts))} characters",
                provider=self.provider,
            )
        return self._finish(
            request,
            text="".join(parts),
            refusal="".join(refusal) or None,
            finish=finish,
            model=model,
            usage=usage,
        )

    def _finish(
        self,
        request: LLMRequest,
        *,
        text: str,
        refusal: Any,
        finish: Any,
        model: Any,
        usage: Any,
    ) -> LLMResponse:
        if finish == "content_filter" or refusal:
            detail = f"model refused: {refusal}" if refusal else "finish_reason content_filter"
            raise ContentFilteredError(detail, provider=self.provider)
        if finish is None:
            raise MalformedResponseError("answer has no finish_reason", provider=self.provider)
        if request.json_schema is not None:
            try:
                json.loads(text)
            except ValueError:
                why = " (cut off at max_tokens)" if finish == "length" else ""
                raise MalformedResponseError(
                    f"asked for JSON, got text that does not parse{why}", provider=self.provider
                ) from None
        estimated = not isinstance(usage, dict) or "prompt_tokens" not in usage
        if estimated:
            # Some servers send no usage; estimate so spend is never recorded as zero.
            prompt = "".join(m.content for m in request.messages)
            usage_out = {
                "prompt_tokens": estimate_tokens(prompt),
                "completion_tokens": estimate_tokens(text),
            }
        else:
            usage_out = usage
        return LLMResponse(
            text=text,
            model=str(model or request.model or self.model),
            input_tokens=int(usage_out.get("prompt_tokens") or 0),
            output_tokens=int(usage_out.get("completion_tokens") or 0),
            finish_reason=_FINISH.get(str(finish), "other"),
            usage=usage_out,
            provider=self.provider,
            usage_estimated=estimated,
        )
