"""`issuewright serve` as an operator starts it without credentials: a real process prints the
one-time setup code on stderr, and that code (and only it) opens /setup on the real socket.
(With LOG_LEVEL hiding warnings the code goes to stderr directly: test_setup_gate.py.)"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.recording_server import unused_port
from tests.web.setup_helpers import Forms

BIN = Path(sys.executable).parent
LINE_WAIT_SECONDS = 60.0  # a guard against a hung server, not a timing assertion
_CODE = re.compile(r"one-time setup code ([0-9a-f]{32})\b")


class Server:
    """`issuewright serve` in a temporary directory, its stderr read line by line."""

    def __init__(self, tmp_path: Path, log_level: str) -> None:
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        self.port = unused_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("APP_", "PRIVATE_KEY", "WEBHOOK_", "PUBLIC_URL", "ENV_FILE"))
        }
        env.update(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'iw.db'}",
            ENV_FILE=str(tmp_path / ".env"),
            HOST="127.0.0.1",
            PORT=str(self.port),
            LOG_LEVEL=log_level,
            LOG_FORMAT="text",
            RUN_WORKER="false",
        )
        self.process = subprocess.Popen(
            [str(BIN / "issuewright"), "serve"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put("")  # end of output: the process exited

    def wait_for(self, pattern: str) -> re.Match[str]:
        """Read stderr until a line matches (the server's own signal that it got there)."""
        while True:
            line = self.lines.get(timeout=LINE_WAIT_SECONDS)
            if not line:
                pytest.fail(f"serve exited before printing {pattern!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=LINE_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], Server]]:
    started: list[Server] = []

    def start(log_level: str) -> Server:
        server = Server(tmp_path, log_level)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_serve_prints_the_code_and_only_it_opens_setup(serve: Callable[[str], Server]) -> None:
    server = serve("INFO")
    code = server.wait_for(_CODE.pattern).group(1)
    server.wait_for(r"Uvicorn running on")  # uvicorn says so once the socket listens
    printed = next(line for line in server.seen if code in line)
    assert "WARNING" in printed and f"http://127.0.0.1:{server.port}/setup" in printed
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=base) as client:
        page = client.get("/setup")
        wrong = client.post("/setup", data={"setup_code": "0" * 32})
        right = client.post("/setup", data={"setup_code": code})
    assert page.status_code == 200 and code not in page.text
    assert wrong.status_code == 403 and code not in wrong.text
    assert right.status_code == 200, right.text
    (form,) = Forms(right.text).forms
    assert form["action"].startswith("https://github.com/settings/apps/new?state=")
    assert "HttpOnly" in right.headers["set-cookie"]
