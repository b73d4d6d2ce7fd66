"""Recorded LLM answers and the fakes that replay them (no network, no real sleeping).

`cassettes/*.json` hold a JSON answer as an object; `cassettes/*.yaml` hold a server-sent event
stream as the exact text on the wire. Both may carry the `request` body the bot should send.
`cassettes/vcr_*.yaml` are vcrpy cassettes and are read by vcrpy itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.llm import LLMClient, RetryPolicy, make_client

CASSETTES = Path(__file__).parent / "cassettes"
OPENAI_KEY = "sk-test-issuewright-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-api03-test-issuewright-0123456789abcdef"


@dataclass(frozen=True)
class Recording:
    name: str
    status: int
    headers: dict[str, str]
    body: bytes
    request: dict[str, Any] | None

    @property
    def is_stream(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")

    def json(self) -> Any:
        return json.loads(self.body)

    def response(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.Response(
            self.status, headers={**self.headers, **(headers or {})}, content=self.body
        )


def load(name: str) -> Recording:
    path = CASSETTES / name
    raw = (
        json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    )
    body = raw["body"]
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return Recording(name, raw["status"], raw.get("headers", {}), data, raw.get("request"))


def recordings() -> list[str]:
    return sorted(p.name for p in CASSETTES.iterdir() if not p.name.startswith("vcr_"))


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def policy(self, **changes: Any) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, clock=self.clock, **changes)


class BrokenStream(httpx.AsyncByteStream):
    """Sends the first bytes of a body, then the connection drops (a reset mid-stream)."""

    def __init__(self, head: bytes) -> None:
        self.head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        raise httpx.ReadError("[Errno 104] Connection reset by peer")


Step = Recording | httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class Script:
    """A MockTransport handler that answers each request with the next step, and keeps the
    requests so tests can count attempts and read what was sent."""

    steps: list[Step]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request #{len(self.requests)} to {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, Recording):
            return step.response()
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def client_for(
    provider: str,
    steps: Iterable[Step],
    fake_time: FakeTime,
    *,
    base_url: str | None = None,
    model: str | None = None,
    max_response_bytes: int | None = None,
    **policy: Any,
) -> tuple[LLMClient, Script]:
    script = Script(list(steps))
    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    client = make_client(
        provider,
        base_url=base_url,
        api_key=OPENAI_KEY if provider == "openai" else ANTHROPIC_KEY,
        model=model or ("gpt-4o-mini" if provider == "openai" else "claude-sonnet-4-5"),
        http_client=http,
        retry=fake_time.policy(**policy),
        **({"max_response_bytes": max_response_bytes} if max_response_bytes else {}),
    )
    return client, script
