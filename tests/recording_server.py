"""A real HTTP server on 127.0.0.1 that records every request and answers from a script:
the stand-in for an LLM endpoint the operator configured, or for a hostile host that must
never be contacted.

A request asking for a stream (`"stream": true`) that the script answers 200 with a complete
answer (`chat.completion`, or an Anthropic `message`) gets it as the provider would stream
it: server-sent events flushed one at a time (tests/llm_stub.py: `stream_events`). A script
may also answer with `SSE` itself, to choose the events or to look at the client between
them (`between`). Any other answer is sent as JSON, as before."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.llm_stub import stream_events, wants_stream


def unused_port() -> int:
    """A local port nothing listens on now: connecting is refused at once (a peer that is
    down), or a server started next can bind it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class SSE:
    """An answer sent as server-sent events, each written and flushed on its own; after the
    n-th (from 1) is on the wire, `between(n)` runs before the next is sent."""

    events: list[bytes]
    between: Callable[[int], None] | None = None


@dataclass
class RecordingServer:
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    # (request) -> (status, JSON body or SSE)
    answer: Callable[[Recorded], tuple[int, Any]] = lambda _r: (404, {"error": "not here"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def recording_server(
    answer: Callable[[Recorded], tuple[int, Any]] | None = None,
) -> Iterator[RecordingServer]:
    state = RecordingServer()
    if answer is not None:
        state.answer = answer

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Recorded(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            state.requests.append(seen)
            status, body = state.answer(seen)
            streamable = isinstance(body, dict) and (
                body.get("object") == "chat.completion" or body.get("type") == "message"
            )
            if status == 200 and streamable and wants_stream(seen.body):
                body = SSE(stream_events(body))
            if isinstance(body, SSE):
                self._stream(status, body)
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, status: int, sse: SSE) -> None:
            # HTTP/1.0 without a length: the body ends when the connection closes.
            self.send_response(status)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.close_connection = True
            for n, event in enumerate(sse.events, 1):
                self.wfile.write(event)
                self.wfile.flush()
                if sse.between is not None:
                    sse.between(n)

        do_GET = do_POST = _serve

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
