"""An OpenAI-compatible endpoint for app-level tests: answers with scripted edits in the real
`chat.completion` wire format (checked against the `openai` SDK's own type on every reply)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from openai.types.chat import ChatCompletion

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
        return httpx.Response(
            200, json=chat_completion(answer, body["model"], prompt_chars // 4, len(answer) // 4)
        )

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
