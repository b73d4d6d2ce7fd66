"""Contract tests through vcrpy cassettes: the clients run on a plain httpx.AsyncClient (no
injected transport) and vcrpy answers from `cassettes/vcr_*.yaml`. `record_mode="none"` means a
request the cassette does not hold — different URL, method or JSON body — fails the test
instead of reaching the network."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import vcr
from vcr.request import Request as VcrRequest

from bot.llm import ChatMessage, LLMRequest, make_client
from tests.llm.recordings import ANTHROPIC_KEY, CASSETTES, OPENAI_KEY, FakeTime, load
from tests.llm.test_clients import request_like

# Secrets are removed from anything recorded; the same config replays, so both paths share it.
FILTERED = [("authorization", None), ("x-api-key", None)]


def json_body(r1: VcrRequest, r2: VcrRequest) -> None:
    # Key order and spacing are not part of the contract; the JSON value is.
    assert json.loads(r1.body or b"null") == json.loads(r2.body or b"null")


def llm_vcr(record_mode: str = "none") -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode=record_mode,
        filter_headers=FILTERED,
        match_on=["method", "uri", "json_body"],
    )
    recorder.register_matcher("json_body", json_body)
    return recorder


async def test_openai_contract_from_vcr_cassette(fake_time: FakeTime) -> None:
    with llm_vcr().use_cassette(str(CASSETTES / "vcr_openai_chat.yaml")) as cassette:
        client = make_client(
            "openai", api_key=OPENAI_KEY, model="gpt-4o-mini", retry=fake_time.policy()
        )
        try:
            response = await client.complete(request_like("openai_chat.json"))
        finally:
            await client.aclose()
        assert cassette.play_count == 1
    assert response.text.startswith("greet.py\n```python\n<<<<<<< SEARCH")
    assert (response.input_tokens, response.output_tokens, response.finish_reason) == (
        87,
        46,
        "stop",
    )


async def test_anthropic_streaming_contract_from_vcr_cassette(fake_time: FakeTime) -> None:
    with llm_vcr().use_cassette(str(CASSETTES / "vcr_anthropic_stream.yaml")) as cassette:
        client = make_client(
            "anthropic", api_key=ANTHROPIC_KEY, model="claude-sonnet-4-5", retry=fake_time.policy()
        )
        try:
            response = await client.complete(request_like("anthropic_message_stream.yaml"))
        finally:
            await client.aclose()
        assert cassette.play_count == 1
    assert response.text == load("anthropic_message.json").json()["content"][0]["text"]
    assert (response.input_tokens, response.output_tokens) == (94, 52)


async def test_a_request_the_cassette_does_not_hold_never_goes_out(fake_time: FakeTime) -> None:
    with llm_vcr().use_cassette(str(CASSETTES / "vcr_openai_chat.yaml")):
        client = make_client(
            "openai", api_key=OPENAI_KEY, model="gpt-4o-mini", retry=fake_time.policy()
        )
        try:
            other = LLMRequest([ChatMessage("user", "something else")])
            try:
                await client.complete(other)
            except vcr.errors.CannotOverwriteExistingCassetteException:
                pass
            else:
                raise AssertionError("an unrecorded request was answered")
        finally:
            await client.aclose()


async def test_recording_filters_api_keys(tmp_path: Path, fake_time: FakeTime) -> None:
    path = tmp_path / "recorded.yaml"
    for provider, key, name in [
        ("openai", OPENAI_KEY, "openai_chat.json"),
        ("anthropic", ANTHROPIC_KEY, "anthropic_message.json"),
    ]:
        # vcrpy hooks MockTransport too, so this records what the "server" answered.
        http = httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r, n=name: load(n).response())
        )
        with llm_vcr("all").use_cassette(str(path.with_suffix(f".{provider}.yaml"))):
            client = make_client(
                provider, api_key=key, model="m", http_client=http, retry=fake_time.policy()
            )
            await client.complete(LLMRequest([ChatMessage("user", "hi")]))
        await http.aclose()
        text = path.with_suffix(f".{provider}.yaml").read_text()
        assert "uri: https://api." in text  # it did record
        assert key not in text
        assert "authorization" not in text.lower() and "x-api-key" not in text.lower()
