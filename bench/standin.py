"""The GitHub stand-in (bench/ghsim_server.py) seen from a benchmark: start it in its own
process, point the app at it, drive it, read what it saw, stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.ingest import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{what} did not listen on port {port} within {timeout:g} s")


class StandIn:
    """The stand-in process, seen from a benchmark: start, drive, read, stop."""

    def __init__(self, workdir: Path, *, validate: bool = False) -> None:
        from tests.ghsim.fixtures import new_app_private_key

        self.key = new_app_private_key()
        key_file = workdir / "app-key.pem"
        key_file.write_text(self.key)
        key_file.chmod(0o600)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "bench.ghsim_server", str(self.port)]
        args += [str(workdir / "github"), str(key_file)]
        self.log = (workdir / "ghsim.log").open("wb")
        self.proc = subprocess.Popen(
            [*args, *([] if validate else ["--no-validate"])],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc, "the GitHub stand-in")
        self.client = httpx.Client(base_url=self.url, timeout=300)

    def env(self) -> dict[str, str]:
        """The app's settings that point it here (see bot/settings.py)."""
        return {
            "APP_ID": "4242",
            "PRIVATE_KEY": self.key,
            "APP_SLUG": "issuewright",
            "GITHUB_API_URL": self.url,
            "GITHUB_WEB_URL": "https://github.com",
        }

    def call(self, method: str, path: str, data: Any = None) -> Any:
        response = self.client.request(method, path, json=data)
        response.raise_for_status()
        return response.json()

    def setup(self, **data: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/_bench/setup", data))

    def comments(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            found += self.call("POST", "/_bench/comments", {"items": chunk})["deliveries"]
        return found

    def effects(self) -> dict[str, Any]:
        return dict(self.call("GET", "/_bench/effects"))

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
