"""Every recording must be something the vendors' own SDKs accept, so the recordings cannot drift
into a format no real server sends. Unknown keys are refused too: the SDK models allow extras,
which would let a misspelt field slip through."""

from __future__ import annotations

import json
from typing import Any, get_type_hints

import pytest
import yaml
from anthropic.types import ErrorResponse, Message, RawMessageStreamEvent
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from openai.types.shared import ErrorObject
from pydantic import BaseModel, TypeAdapter

from tests.llm.recordings import CASSETTES, load, recordings

STREAM_EVENT = TypeAdapter(RawMessageStreamEvent)


def provider_of(name: str) -> str:
    return "anthropic" if "anthropic" in name else "openai"


def assert_no_extra(value: Any, where: str) -> None:
    if isinstance(value, BaseModel):
        assert not value.model_extra, f"{where}: keys the SDK does not know: {value.model_extra}"
        for key in type(value).model_fields:
            assert_no_extra(getattr(value, key), f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_extra(item, f"{where}[{i}]")


def sse_events(body: str) -> list[tuple[str, str]]:
    """(event name, data) of each complete event; a cut-off last event is left out."""
    events = []
    blocks = body.split("\n\n")
    for block in blocks[:-1]:  # text after the last blank line never finished
        name, data = "message", []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, "\n".join(data)))
    return events


def validate_openai(status: int, body: str, stream: bool) -> None:
    if status >= 400:
        payload = json.loads(body)
        assert set(payload) == {"error"}
        assert_no_extra(ErrorObject.model_validate(payload["error"]), "error")
    elif stream:
        events = sse_events(body)
        assert events, "no events"
        for i, (name, data) in enumerate(events):
            assert name == "message", "OpenAI streams carry no event names"
            if data == "[DONE]":
                assert i == len(events) - 1, "[DONE] must be last"
                continue
            assert_no_extra(ChatCompletionChunk.model_validate_json(data), f"event {i}")
    else:
        assert_no_extra(ChatCompletion.model_validate_json(body), "completion")


def validate_anthropic(status: int, body: str, stream: bool) -> None:
    if status >= 400:
        assert_no_extra(ErrorResponse.model_validate_json(body), "error")
    elif stream:
        events = sse_events(body)
        assert events, "no events"
        for i, (name, data) in enumerate(events):
            payload = json.loads(data)
            assert payload["type"] == name, f"event {i}: name {name} but type {payload['type']}"
            if name == "ping":  # keep-alive; not in the SDK's event union
                assert payload == {"type": "ping"}
            elif name == "error":
                assert_no_extra(ErrorResponse.model_validate(payload), f"event {i}")
            else:
                assert_no_extra(STREAM_EVENT.validate_python(payload), f"event {i}")
    else:
        assert_no_extra(Message.model_validate_json(body), "message")


def validate_request(provider: str, body: dict[str, Any]) -> None:
    """What the bot sends must be a valid create-params body for the vendor's SDK."""
    if provider == "openai":
        params = (
            CompletionCreateParamsStreaming
            if body.get("stream")
            else CompletionCreateParamsNonStreaming
        )
    else:
        params = (
            MessageCreateParamsStreaming if body.get("stream") else MessageCreateParamsNonStreaming
        )
    TypeAdapter(params).validate_python(body)
    unknown = set(body) - set(get_type_hints(params))
    assert not unknown, f"request keys the SDK does not know: {unknown}"


@pytest.mark.parametrize("name", recordings())
def test_recording_matches_vendor_sdk_types(name: str) -> None:
    recording = load(name)
    body = recording.body.decode()
    if provider_of(name) == "openai":
        validate_openai(recording.status, body, recording.is_stream)
    else:
        validate_anthropic(recording.status, body, recording.is_stream)
    if recording.request is not None:
        validate_request(provider_of(name), recording.request)


@pytest.mark.parametrize("name", sorted(p.name for p in CASSETTES.glob("vcr_*.yaml")))
def test_vcr_cassette_matches_vendor_sdk_types(name: str) -> None:
    cassette = yaml.safe_load((CASSETTES / name).read_text())
    assert cassette["interactions"]
    for interaction in cassette["interactions"]:
        request, response = interaction["request"], interaction["response"]
        headers = {k.lower() for k in request["headers"]}
        assert not headers & {"authorization", "x-api-key"}, "secrets must be filtered out"
        validate_request(provider_of(name), json.loads(request["body"]))
        content_type = response["headers"]["content-type"][0]
        body, status = response["body"]["string"], response["status"]["code"]
        stream = content_type.startswith("text/event-stream")
        if provider_of(name) == "openai":
            validate_openai(status, body, stream)
        else:
            validate_anthropic(status, body, stream)


def test_the_validation_catches_a_misspelt_field() -> None:
    body = load("openai_chat.json").json()
    # An optional field, so only the no-unknown-keys check can notice.
    body["system_fingerprnt"] = body.pop("system_fingerprint")
    with pytest.raises(AssertionError, match="system_fingerprnt"):
        validate_openai(200, json.dumps(body), stream=False)


def test_the_validation_catches_a_wrong_stream_event() -> None:
    bad = (
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{}}\n\n'
    )
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        validate_anthropic(200, bad, stream=True)


def test_every_kind_of_recording_is_present() -> None:
    names = recordings()
    for provider in ("openai", "anthropic"):
        mine = [load(n) for n in names if provider_of(n) == provider]
        assert any(r.is_stream and r.status == 200 for r in mine), f"{provider}: no stream"
        assert any(not r.is_stream and r.status == 200 for r in mine), f"{provider}: no JSON"
        assert any(r.status >= 400 for r in mine), f"{provider}: no error"
