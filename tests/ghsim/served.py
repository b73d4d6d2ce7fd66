"""The simulator behind a real HTTP server on 127.0.0.1, for a bot that runs in another process
(`issuewright check` as a subprocess): its API URL is `http://127.0.0.1:<port>`."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from .simulator import GitHubSimulator


@contextmanager
def served_simulator(
    root: Path, private_key_pem: str, *, web: bool = False, **kw: object
) -> Iterator[GitHubSimulator]:
    """With `web`, GitHub's web pages (the OAuth web flow) are served at the same origin, as
    on GitHub Enterprise Server, so a browser can reach the consent page."""
    # Bound and listening before the server thread starts: a client that connects at once
    # waits in the backlog until uvicorn accepts, so nothing has to wait for "started".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    if web:
        kw["web_url"] = origin
    sim = GitHubSimulator(root, private_key_pem=private_key_pem, api_url=origin, **kw)  # type: ignore[arg-type]
    config = uvicorn.Config(sim.asgi, log_config=None, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield sim
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
