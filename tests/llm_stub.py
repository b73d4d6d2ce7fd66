"""An OpenAI-compatible endpoint for app-level tests: answers with scripted edits in the real
`chat.completion` wire format (checked against the `openai` SDK's own type on every reply),
streamed as `chat.completion.chunk` server-sent events when the request asks for a stream.
The stream forms of both providers (`stream_events`) are shared with tests/recording_server.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from anthropic.types import Message, RawMessageStreamEvent
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import TypeAdapter

from bot.core.policy import LLMChoice
from bot.llm.factory import make_client
from bot.llm.retry import RetryPolicy


def chat_completion(
    content: str, model: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_763_800_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_test",
    }
    ChatCompletion.model_validate(body)  # the stand-in cannot drift from the real format
    return body


def anthropic_message(
    content: str, model: str, input_tokens: int, output_tokens: int
) -> dict[str, Any]:
    body = {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": content}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    Message.model_validate(body)
    return body


def pieces_of(text: str) -> list[str]:
    """How a model streams text: many small deltas (at most a few hundred, so a huge answer
    stays quick to check)."""
    size = max(24, len(text) // 300 + 1)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def stream_events(body: dict[str, Any], pieces: list[str] | None = None) -> list[bytes]:
    """A complete answer (`chat.completion` or Anthropic `message`) as the server-sent events
    the provider streams it as, one bytes per event, each checked against the SDK's type.
    `pieces`: the text deltas (joined, they must be the answer's text)."""
    if body.get("type") == "message":
        return _anthropic_events(body, pieces)
    return _openai_events(body, pieces)


def _openai_events(body: dict[str, Any], pieces: list[str] | None) -> list[bytes]:
    choice = body["choices"][0]
    text = choice["message"]["content"] or ""
    pieces = pieces if pieces is not None else pieces_of(text)
    assert "".join(pieces) == text
    head = {k: body[k] for k in ("id", "created", "model", "system_fingerprint")}
    head["object"] = "chat.completion.chunk"

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        one = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**head, "choices": [one], "usage": None}

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None}, None)]
    chunks += [chunk({"content": piece}, None) for piece in pieces]
    chunks.append(chunk({}, choice["finish_reason"]))
    chunks.append({**head, "choices": [], "usage": body["usage"]})  # include_usage's chunk
    for one in chunks:
        ChatCompletionChunk.model_validate(one)
    return [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]


_EVENT = TypeAdapter(RawMessageStreamEvent)


def _anthropic_events(body: dict[str, Any], pieces: list[str] | None) -> list[bytes]:
    text = "".join(b["text"] for b in body["content"] if b["type"] == "text")
    pieces = pieces if pieces is not None else pieces_of(text)
    assert "".join(pieces) == text
    usage = body["usage"]
    start = {**body, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": 1}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
        for p in pieces
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": body["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
        {"type": "message_stop"},
    ]
    for one in events:
        _EVENT.validate_python(one)
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def wants_stream(body: bytes | dict[str, Any]) -> bool:
    try:
        data = json.loads(body) if isinstance(body, bytes) else body
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("stream") is True


class ScriptedLLM:
    """Replies with `answers` in order (the last one repeats); records every request."""

    def __init__(self, *answers: str | Callable[[dict[str, Any]], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if callable(answer):
            return answer(body)
        prompt_chars = sum(len(m["content"]) for m in body["messages"])
        reply = chat_completion(answer, body["model"], prompt_chars // 4, len(answer) // 4)
        if wants_stream(body):
            sse = b"".join(stream_events(reply))
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
        return httpx.Response(200, json=reply)

    def factory(self, choice: LLMChoice) -> Any:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return make_client(
            "openai",
            base_url="http://llm.test/v1",
            api_key="sk-test-not-real",
            model=choice.model,
            http_client=client,
            retry=RetryPolicy(max_attempts=2, sleep=_no_sleep),
        )

    def prompt_text(self, index: int = 0) -> str:
        return "\n".join(m["content"] for m in self.requests[index]["messages"])


async def _no_sleep(_seconds: float) -> None:
    return None
