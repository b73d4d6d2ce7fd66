"""The app's processes in a chaos run, and the harm done to them: one web process, workers
killed and replaced, a database cut off and given back. Every event is logged with its time.
"""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from bench.apprun import start_app
from tests.ingest.tcp_proxy import TcpProxy


class Fleet:
    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        *,
        web_port: int,
        slots: int,
        proxy: TcpProxy | None,
        sqlite_file: Path | None,
        rng: random.Random,
    ) -> None:
        self.logs = workdir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.env = env
        self.web_port = web_port
        self.slots = slots
        self.proxy = proxy
        self.sqlite_file = sqlite_file
        self.rng = rng
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started = 0
        self.t0 = time.monotonic()
        self.events: list[tuple[float, str]] = []
        self.stopping: list[tuple[subprocess.Popen[bytes], float]] = []  # SIGTERMed workers
        self.stopped: list[str] = []
        self.kills = 0
        self.restarts = 0
        self._web_down = False  # killed on purpose, coming back

    def note(self, what: str) -> None:
        self.events.append((time.monotonic() - self.t0, what))

    # ---------------------------------------------------------------- processes
    async def start_web(self) -> None:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.web_port)]
        self.web = start_app(args, self.env, self.logs / "web.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise SystemExit(f"the web process exited with {self.web.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.web_port), timeout=0.2).close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise SystemExit("the web process did not listen within 60 s")

    def start_worker(self) -> None:
        self.started += 1
        args = ["worker", "--concurrency", str(self.slots)]
        self.workers.append(start_app(args, self.env, self.logs / f"worker-{self.started}.log"))

    async def kill_web_and_restart(self, down_seconds: float) -> None:
        assert self.web is not None
        self._web_down = True
        self.web.send_signal(signal.SIGKILL)
        self.web.wait()
        self.note("web process SIGKILLed")
        await asyncio.sleep(down_seconds)
        await self.start_web()
        self._web_down = False
        self.note("web process back")

    async def supervise(self) -> None:
        """What a process supervisor does (docker-compose's `restart: unless-stopped`): a
        process that exited by itself, e.g. a worker started while the database was away,
        is started again; a SIGTERMed worker's exit is recorded."""
        while True:
            for proc in [w for w in self.workers if w.poll() is not None]:
                self.workers.remove(proc)
                self.restarts += 1
                self.note(f"worker {proc.pid} exited {proc.returncode} by itself; restarted")
                self.start_worker()
            if not self._web_down and self.web is not None and self.web.poll() is not None:
                self.note(f"web process exited {self.web.returncode} by itself; restarted")
                self.restarts += 1
                await self.start_web()
            for proc, at in list(self.stopping):
                if proc.poll() is not None:
                    self.stopping.remove((proc, at))
                    took = time.monotonic() - at
                    self.stopped.append(
                        f"worker {proc.pid} exited {proc.returncode} {took:.1f} s after SIGTERM"
                    )
            await asyncio.sleep(0.5)

    def kill_worker(self) -> None:
        """SIGKILL a random worker and start another in its place."""
        live = [w for w in self.workers if w.poll() is None]
        if not live:
            return
        victim = self.rng.choice(live)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.workers.remove(victim)
        self.kills += 1
        self.start_worker()

    def term_worker(self) -> None:
        """SIGTERM a random worker (it finishes or gives back its jobs) and replace it."""
        victim = self.rng.choice([w for w in self.workers if w.poll() is None])
        victim.send_signal(signal.SIGTERM)
        self.workers.remove(victim)
        self.stopping.append((victim, time.monotonic()))
        self.note(f"worker {victim.pid} SIGTERMed")
        self.start_worker()

    async def database_outage(self, seconds: float) -> None:
        """PostgreSQL: every connection through the proxy cut and new ones refused.
        SQLite: the write lock held, so every writer waits."""
        if self.proxy is not None:
            self.proxy.down()
            self.note(f"database cut off for {seconds:g} s")
            await asyncio.sleep(seconds)
            self.proxy.up()
        else:
            assert self.sqlite_file is not None
            release = threading.Event()
            held = threading.Event()

            def hold() -> None:
                conn = sqlite3.connect(self.sqlite_file, timeout=60)
                conn.execute("BEGIN EXCLUSIVE")
                held.set()
                release.wait()
                conn.rollback()
                conn.close()

            thread = threading.Thread(target=hold, daemon=True)
            thread.start()
            await asyncio.to_thread(held.wait)
            self.note(f"database write lock held for {seconds:g} s")
            await asyncio.sleep(seconds)
            release.set()
            await asyncio.to_thread(thread.join)
        self.note("database back")

    def stopped_workers(self) -> list[str]:
        """How each SIGTERMed worker ended (exit code, seconds after the signal)."""
        for proc, at in self.stopping:
            if proc.poll() is None:
                proc.kill()
                self.stopped.append(
                    f"worker {proc.pid} still running {time.monotonic() - at:.0f} s after SIGTERM"
                )
        return self.stopped

    def stop_all(self) -> None:
        procs = [p for p in [self.web, *self.workers] if p is not None and p.poll() is None]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
