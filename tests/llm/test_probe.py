"""`probe_endpoint` (what `issuewright check` asks each LLM endpoint): its models list with the
endpoint's own headers, else one call of one output token; failures are the usual LLM errors."""

from __future__ import annotations

import json

import pytest

from bot.llm import AuthenticationError
from bot.llm.probe import probe_endpoint
from tests.llm.recordings import ANTHROPIC_KEY, OPENAI_KEY, load
from tests.recording_server import Recorded, recording_server


async def test_an_openai_compatible_endpoint_lists_its_models() -> None:
    listed = {"object": "list", "data": [{"id": "gpt-4o-mini"}, {"id": "gpt-4o"}, {"x": 1}]}
    with recording_server(lambda _r: (200, listed)) as server:
        models = await probe_endpoint(
            "openai",
            f"{server.url}/v1",
            OPENAI_KEY,
            [("X-Team", "red")],
            "gpt-4o-mini",
            http_timeout=5,
        )
    assert models == ["gpt-4o-mini", "gpt-4o"]
    (request,) = server.requests  # one GET: nothing spent
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.headers["x-team"] == "red"


async def test_anthropic_lists_its_models_with_its_key_and_version() -> None:
    listed = {"data": [{"id": "claude-sonnet-4-5-20250929", "type": "model"}], "has_more": False}
    with recording_server(lambda _r: (200, listed)) as server:
        models = await probe_endpoint(
            "anthropic", server.url, ANTHROPIC_KEY, (), "claude-sonnet-4-5", http_timeout=5
        )
    assert models == ["claude-sonnet-4-5-20250929"]
    (request,) = server.requests
    assert (request.method, request.path) == ("GET", "/v1/models?limit=1000")
    assert request.headers["x-api-key"] == ANTHROPIC_KEY
    assert request.headers["anthropic-version"]


async def test_without_a_models_list_one_token_is_asked_for() -> None:
    chat = load("ollama_chat.json").json()

    def answer(request: Recorded) -> tuple[int, object]:
        if request.method == "GET":
            return 404, {"error": "not found"}
        return 200, chat

    with recording_server(answer) as server:
        models = await probe_endpoint(
            "openai", f"{server.url}/v1", None, (), "llama3.1:8b", http_timeout=5
        )
    assert models is None
    listing, call = server.requests
    assert listing.path == "/v1/models" and call.path == "/v1/chat/completions"
    body = json.loads(call.body)
    assert body["max_tokens"] == 1 and body["model"] == "llama3.1:8b"
    assert "authorization" not in call.headers  # no key configured, none sent


async def test_a_refused_key_is_an_authentication_error_without_retry() -> None:
    refused = load("openai_error_401.json")
    with recording_server(lambda _r: (401, refused.json())) as server:
        with pytest.raises(AuthenticationError) as raised:
            await probe_endpoint(
                "openai", f"{server.url}/v1", OPENAI_KEY, (), "gpt-4o-mini", http_timeout=5
            )
    assert raised.value.status_code == 401
    assert OPENAI_KEY not in str(raised.value)
    assert len(server.requests) == 1
