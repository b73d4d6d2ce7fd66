"""Apps behind a real HTTP server on 127.0.0.1: the simulator, for a bot that runs in another
process (`issuewright check` as a subprocess) or a browser; and the app itself, for a browser
(tests/e2e/test_dashboard_browser.py). Their URL is `http://127.0.0.1:<port>`."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

import uvicorn

from .simulator import GitHubSimulator

App = TypeVar("App")


@contextmanager
def served(
    build: Callable[[str], App], *, lifespan: Literal["on", "off"] = "off"
) -> Iterator[tuple[str, App]]:
    """Serve `build(origin)` at `origin` until the block ends; yields (origin, the app)."""
    # Bound and listening before the server thread starts: a client that connects at once
    # waits in the backlog until uvicorn accepts (after the app's startup), so nothing has to
    # wait for "started".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = build(origin)
    config = uvicorn.Config(app, log_config=None, lifespan=lifespan, access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield origin, app
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def served_simulator(
    root: Path, private_key_pem: str, *, web: bool = False, **kw: Any
) -> Iterator[GitHubSimulator]:
    """With `web`, GitHub's web pages (the OAuth web flow) are served at the same origin, as
    on GitHub Enterprise Server, so a browser can reach the consent page."""

    def build(origin: str) -> GitHubSimulator:
        if web:
            kw["web_url"] = origin
        return GitHubSimulator(root, private_key_pem=private_key_pem, api_url=origin, **kw)

    with served(lambda origin: build(origin).asgi) as (_, asgi):
        yield asgi.sim
