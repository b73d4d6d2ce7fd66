"""A real HTTP server on 127.0.0.1 that records every request and answers from a script:
the stand-in for an LLM endpoint the operator configured, or for a hostile host that must
never be contacted."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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
class RecordingServer:
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    # (request) -> (status, JSON body)
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
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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
