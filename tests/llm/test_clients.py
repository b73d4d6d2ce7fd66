"""Both providers replayed from their recorded wire formats through httpx.MockTransport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.llm import ChatMessage, LLMRequest, LLMResponse, make_client
from bot.llm.anthropic import messages_url
from bot.llm.base import LLMClient
from bot.llm.openai_compat import chat_completions_url
from tests.llm.recordings import FakeTime, client_for, load

SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "files": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["summary", "files"],
    "additionalProperties": False,
}
PLAIN = {"openai": "openai_chat.json", "anthropic": "anthropic_message.json"}
STREAM = {"openai": "openai_chat_stream.yaml", "anthropic": "anthropic_message_stream.yaml"}
JSON_OUT = {"openai": "openai_json_schema.json", "anthropic": "anthropic_json_output.json"}
PROVIDERS = ["openai", "anthropic"]


def request_like(recording_name: str, **changes: Any) -> LLMRequest:
    """The LLMRequest that should produce the request body stored beside a recording."""
    sent = load(recording_name).request
    assert sent is not None
    system = sent.get("system")
    messages = ([ChatMessage("system", system)] if system else []) + [
        ChatMessage(m["role"], m["content"]) for m in sent["messages"]
    ]
    fields: dict[str, Any] = {
        "messages": messages,
        "model": sent["model"],
        "max_tokens": sent.get("max_completion_tokens") or sent["max_tokens"],
        "stream": bool(sent.get("stream")),
    }
    return LLMRequest(**{**fields, **changes})


async def run(
    provider: str,
    steps: list[Any],
    fake_time: FakeTime,
    request: LLMRequest | None = None,
    **kw: Any,
) -> tuple[LLMResponse, Any]:
    client, script = client_for(provider, steps, fake_time, **kw)
    try:
        return await client.complete(request or request_like(PLAIN[provider])), script
    finally:
        await client.aclose()


# ---------------------------------------------------------------- success paths


async def test_openai_plain_answer_parsed_and_request_as_recorded(fake_time: FakeTime) -> None:
    recording = load("openai_chat.json")
    response, script = await run("openai", [recording], fake_time, request_like("openai_chat.json"))
    expected = recording.json()
    assert response.text == expected["choices"][0]["message"]["content"]
    assert (response.input_tokens, response.output_tokens) == (87, 46)
    assert response.model == "gpt-4o-mini-2024-07-18"
    assert response.finish_reason == "stop"
    assert response.usage == expected["usage"]
    assert (response.attempts, response.usage_estimated) == (1, False)
    (sent,) = script.requests
    assert str(sent.url) == "https://api.openai.com/v1/chat/completions"
    assert sent.headers["authorization"].startswith("Bearer sk-test-")
    assert script.bodies() == [recording.request]


async def test_anthropic_plain_answer_parsed_and_request_as_recorded(fake_time: FakeTime) -> None:
    recording = load("anthropic_message.json")
    response, script = await run("anthropic", [recording], fake_time)
    assert response.text == recording.json()["content"][0]["text"]
    assert (response.input_tokens, response.output_tokens) == (94, 52)
    assert response.model == "claude-sonnet-4-5-20250929"
    assert response.finish_reason == "stop"
    (sent,) = script.requests
    assert str(sent.url) == "https://api.anthropic.com/v1/messages"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["x-api-key"].startswith("sk-ant-")
    assert "authorization" not in sent.headers
    assert script.bodies() == [recording.request]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_streaming_gives_the_same_answer_as_not_streaming(
    provider: str, fake_time: FakeTime
) -> None:
    plain, _ = await run(provider, [load(PLAIN[provider])], fake_time)
    streamed, script = await run(
        provider, [load(STREAM[provider])], FakeTime(), request_like(STREAM[provider])
    )
    assert streamed.text == plain.text
    assert (streamed.input_tokens, streamed.output_tokens) == (
        plain.input_tokens,
        plain.output_tokens,
    )
    assert (streamed.model, streamed.finish_reason) == (plain.model, plain.finish_reason)
    assert script.bodies() == [load(STREAM[provider]).request]
    assert script.requests[0].headers["accept"] == "text/event-stream"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_json_schema_output_requested_and_parsed(provider: str, fake_time: FakeTime) -> None:
    name = JSON_OUT[provider]
    request = request_like(name, json_schema=SCHEMA, schema_name="plan")
    response, script = await run(provider, [load(name)], fake_time, request)
    assert json.loads(response.text)["files"] == ["greet.py"]
    assert script.bodies() == [load(name).request]


async def test_local_ollama_needs_no_key_and_gets_v1_added(fake_time: FakeTime) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return load("ollama_chat.json").response()

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = make_client(
        "openai",
        base_url="http://localhost:11434",
        model="qwen2.5-coder:7b",
        http_client=http,
        retry=fake_time.policy(),
    )
    response = await client.complete(LLMRequest([ChatMessage("user", "hi")], max_tokens=300))
    assert (response.model, response.input_tokens, response.output_tokens) == (
        "qwen2.5-coder:7b",
        92,
        51,
    )
    assert str(seen[0].url) == "http://localhost:11434/v1/chat/completions"
    assert "authorization" not in seen[0].headers
    body = json.loads(seen[0].content)
    assert body["max_tokens"] == 300 and "max_completion_tokens" not in body  # what Ollama reads


async def test_missing_usage_is_estimated_not_zero(fake_time: FakeTime) -> None:
    # A server that ignores stream_options: the same stream without its usage chunk.
    body = load("openai_chat_stream.yaml").body.decode()
    events = [e for e in body.split("\n\n") if '"choices":[]' not in e]
    no_usage = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content="\n\n".join(events)
    )
    response, _ = await run(
        "openai", [no_usage], fake_time, request_like("openai_chat_stream.yaml")
    )
    assert response.usage_estimated is True
    assert response.input_tokens > 0 and response.output_tokens > 0


async def test_timeouts_and_extra_headers_reach_the_request(fake_time: FakeTime) -> None:
    script_requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        script_requests.append(request)
        return load("openai_chat.json").response()

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = make_client(
        "openai",
        base_url="https://api.together.xyz/v1",
        api_key="k-123456",
        model="m",
        extra_headers=[("X-Title", "issuewright")],
        timeout=60,
        http_client=http,
        retry=fake_time.policy(),
    )
    await client.complete(LLMRequest([ChatMessage("user", "hi")]))
    (sent,) = script_requests
    assert sent.headers["x-title"] == "issuewright"
    timeout = sent.extensions["timeout"]
    assert (timeout["connect"], timeout["read"]) == (10.0, 60)


@pytest.mark.parametrize(
    ("base", "url"),
    [
        (None, "https://api.openai.com/v1/chat/completions"),
        ("https://api.groq.com/openai/v1", "https://api.groq.com/openai/v1/chat/completions"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://vllm:8000/v1/chat/completions", "http://vllm:8000/v1/chat/completions"),
    ],
)
def test_openai_compatible_urls(base: str | None, url: str) -> None:
    assert chat_completions_url(base) == url


@pytest.mark.parametrize(
    "base", [None, "https://api.anthropic.com/", "https://api.anthropic.com/v1"]
)
def test_anthropic_url(base: str | None) -> None:
    assert messages_url(base) == "https://api.anthropic.com/v1/messages"


async def test_factory_builds_clients_that_satisfy_the_protocol() -> None:
    for provider in PROVIDERS:
        client = make_client(provider, api_key="key-1234", model="m")
        assert isinstance(client, LLMClient)
        assert client.provider == provider
        await client.aclose()


async def test_injected_http_client_is_left_open() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    client = make_client("openai", model="m", http_client=http)
    await client.aclose()
    assert not http.is_closed
    await http.aclose()
