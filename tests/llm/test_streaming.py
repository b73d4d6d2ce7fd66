"""Streamed answers as the endpoints we claim to support send them: output tokens heard while
the answer arrives, the provider's count at the end, a server that refuses
`stream_options` or ignores `stream`, and the size cap on the text a stream carries."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.llm import InvalidRequestError, ResponseTooLargeError, RetryPolicy, make_client
from bot.llm.base import ChatMessage, LLMRequest
from tests.llm.recordings import FakeTime, client_for, load
from tests.llm.test_clients import PLAIN, PROVIDERS, STREAM, request_like, run
from tests.llm.test_wire_formats import validate_anthropic, validate_openai
from tests.llm_stub import anthropic_message, chat_completion, stream_events
from tests.recording_server import SSE, Recorded, recording_server

SAFETY = 60  # seconds the server waits for the client before the test fails; never a timing


def sse(*events: bytes) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=b"".join(events)
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_progress_hears_tokens_as_they_stream_then_the_providers_count(
    provider: str, fake_time: FakeTime
) -> None:
    heard: list[int] = []
    request = replace(request_like(STREAM[provider]), progress=heard.append)
    response, _ = await run(provider, [load(STREAM[provider])], fake_time, request)
    assert len(heard) >= 3, heard  # several counts while the text arrived, not one at the end
    assert heard[0] < heard[-2]  # growing as the deltas come in
    assert heard[-1] == response.output_tokens  # the provider's usage has the last word


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_plain_answer_is_heard_once_at_the_end(provider: str, fake_time: FakeTime) -> None:
    heard: list[int] = []
    request = replace(request_like(PLAIN[provider]), progress=heard.append)
    response, _ = await run(provider, [load(PLAIN[provider])], fake_time, request)
    assert heard == [response.output_tokens]


async def test_a_listener_that_raises_does_not_cost_the_answer(fake_time: FakeTime) -> None:
    def broken(_tokens: int) -> None:
        raise RuntimeError("display gone")

    request = replace(request_like(STREAM["openai"]), progress=broken)
    response, _ = await run("openai", [load(STREAM["openai"])], fake_time, request)
    assert response.text.startswith("greet.py")


async def test_a_server_that_refuses_stream_options_is_asked_again_without_them(
    fake_time: FakeTime,
) -> None:
    """Strict OpenAI-compatible servers (Azure serverless, Mistral, pydantic-checked proxies)
    answer 422 to an unknown field; the stream then goes on without it, and later calls of
    the same client leave it out from the start."""
    refused = httpx.Response(
        422,
        json={
            "detail": [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "stream_options"],
                    "msg": "Extra inputs are not permitted",
                }
            ]
        },
    )
    completion = chat_completion("Done.", "local-model", 12, 2)
    no_usage = [e for e in stream_events(completion) if b'"choices": []' not in e]
    request = LLMRequest([ChatMessage("user", "hi")], stream=True)
    client, script = client_for("openai", [refused, sse(*no_usage), sse(*no_usage)], fake_time)
    try:
        first = await client.complete(request)
        second = await client.complete(request)
    finally:
        await client.aclose()
    bodies = script.bodies()
    assert "stream_options" in bodies[0]
    assert "stream_options" not in bodies[1] and bodies[1]["stream"] is True
    assert "stream_options" not in bodies[2]
    assert first.text == second.text == "Done."
    assert first.usage_estimated and first.output_tokens > 0  # estimated, never zero


async def test_another_invalid_request_is_not_sent_again(fake_time: FakeTime) -> None:
    bad = httpx.Response(400, json={"error": {"message": "model 'x' not found"}})
    client, script = client_for("openai", [bad], fake_time)
    try:
        with pytest.raises(Exception, match="not found"):
            await client.complete(LLMRequest([ChatMessage("user", "hi")], stream=True))
    finally:
        await client.aclose()
    assert len(script.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_server_that_ignores_stream_and_answers_json_is_read(
    provider: str, fake_time: FakeTime
) -> None:
    heard: list[int] = []
    request = replace(request_like(STREAM[provider]), progress=heard.append)
    response, _ = await run(provider, [load(PLAIN[provider])], fake_time, request)
    assert response.text and heard == [response.output_tokens]


async def test_a_streamed_answer_is_capped_on_its_text(fake_time: FakeTime) -> None:
    """The wire carries a few hundred bytes per delta; the cap is on the text kept."""
    text = "x" * 3000
    completion = chat_completion(text, "m", 10, 750)
    events = stream_events(completion, ["x" * 10] * 300)
    assert sum(len(e) for e in events) > 10 * len(text)  # framing dwarfs the text
    request = LLMRequest([ChatMessage("user", "hi")], stream=True)
    ok, _ = await run("openai", [sse(*events)], fake_time, request, max_response_bytes=4000)
    assert ok.text == text  # 3000 bytes of text fit a 4000-byte cap, ~70 KB of wire or not
    with pytest.raises(ResponseTooLargeError) as caught:
        await run("openai", [sse(*events)], FakeTime(), request, max_response_bytes=2000)
    assert "LLM_MAX_RESPONSE_BYTES (2,000 bytes)" in caught.value.user_message


def test_the_stand_in_streams_what_the_plain_answer_says() -> None:
    completion = chat_completion("Hello there", "m", 3, 2)
    events = stream_events(completion, ["Hel", "lo there"])
    chunks = [json.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert events[-1] == b"data: [DONE]\n\n"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello there" and chunks[-1]["usage"] == completion["usage"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_over_http_tokens_are_heard_while_the_server_holds_the_rest(provider: str) -> None:
    """The scripted server sends the first 40 characters, then waits for the client to say it
    heard them before it sends the rest: the count comes from the stream as it arrives."""
    text = "calc/ops.py\n```\n<<<<<<< SEARCH\n" + "x = 1\n" * 20 + "=======\n```\n"
    heard: list[int] = []
    first = threading.Event()
    held: dict[str, list[int]] = {}

    def listener(tokens: int) -> None:
        heard.append(tokens)
        first.set()

    def answer(request: Recorded) -> tuple[int, Any]:
        body = json.loads(request.body)
        assert body["stream"] is True
        if provider == "openai":
            reply = chat_completion(text, body["model"], 120, 77)
        else:
            reply = anthropic_message(text, body["model"], 120, 77)
        hold_after = 2 if provider == "openai" else 3  # the event with the first 40 characters

        def between(n: int) -> None:
            if n == hold_after:
                first.wait(SAFETY)
                held["heard"] = list(heard)

        return 200, SSE(stream_events(reply, [text[:40], text[40:]]), between)

    with recording_server(answer) as server:
        client = make_client(
            provider,
            base_url=server.url + ("/v1" if provider == "openai" else ""),
            api_key="sk-test-not-real",
            model="local-model",
            retry=RetryPolicy(max_attempts=1),
        )
        try:
            request = LLMRequest([ChatMessage("user", "hi")], stream=True, progress=listener)
            response = await client.complete(request)
        finally:
            await client.aclose()
    assert held == {"heard": [10]}  # 40 characters, estimated, before the rest was sent
    assert response.text == text and heard[-1] == response.output_tokens == 77


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_stand_ins_streams_pass_the_recordings_checks(provider: str) -> None:
    """What the scripted servers stream is held to the recordings' rule: the vendor SDK's
    types, with no key they do not know."""
    if provider == "openai":
        events = stream_events(chat_completion("Hello there", "m", 3, 2))
        validate_openai(200, b"".join(events).decode(), stream=True)
    else:
        events = stream_events(anthropic_message("Hello there", "m", 3, 2))
        validate_anthropic(200, b"".join(events).decode(), stream=True)


async def test_a_model_that_cannot_stream_gets_one_plain_answer(fake_time: FakeTime) -> None:
    refused = httpx.Response(
        400,
        json={
            "error": {
                "message": "Unsupported value: 'stream' does not support true with this model.",
                "type": "invalid_request_error",
                "param": "stream",
                "code": "unsupported_value",
            }
        },
    )
    plain = httpx.Response(200, json=chat_completion("Done.", "o1", 12, 2))
    heard: list[int] = []
    request = LLMRequest([ChatMessage("user", "hi")], stream=True, progress=heard.append)
    client, script = client_for("openai", [refused, plain, plain], fake_time)
    try:
        first = await client.complete(request)
        await client.complete(request)
    finally:
        await client.aclose()
    bodies = script.bodies()
    assert bodies[0]["stream"] is True
    assert "stream" not in bodies[1] and "stream_options" not in bodies[1]
    assert "stream" not in bodies[2]  # remembered
    assert first.text == "Done." and heard == [2, 2]  # each plain answer heard once, at its end


async def test_an_upstream_error_is_not_taken_for_a_refused_stream(fake_time: FakeTime) -> None:
    bad = httpx.Response(400, json={"error": {"message": "upstream model 'x' does not exist"}})
    client, script = client_for("openai", [bad], fake_time)
    try:
        with pytest.raises(InvalidRequestError):
            await client.complete(LLMRequest([ChatMessage("user", "hi")], stream=True))
    finally:
        await client.aclose()
    assert len(script.requests) == 1
