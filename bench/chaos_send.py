"""GitHub's side of a chaos run: every delivery sent at its time and re-sent, as GitHub's
redeliver would, until a 2xx answers it; some re-sent on purpose, at once or later."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

from bench.apprun import signed
from bench.chaos_count import Sent


class Sender:
    """GitHub's side: each delivery sent at its time, re-sent until a 2xx answers it."""

    def __init__(self, port: int, deliveries: list[dict[str, Any]], rng: random.Random) -> None:
        self.port = port
        self.rng = rng
        self.requests = {d["id"]: _request(port, *signed(d)) for d in deliveries}
        self.sent = {d["id"]: Sent(d["id"], int(d["payload"]["comment"]["id"])) for d in deliveries}
        self.resent = Counter[str]()
        self.inflight = asyncio.Semaphore(48)

    async def post(self, delivery_id: str) -> int:
        """One POST on a connection of its own; 0 when no answer came within GitHub's 10 s
        (refused, reset, timed out)."""
        async with self.inflight:
            try:
                status = await asyncio.wait_for(self._exchange(self.requests[delivery_id]), 10)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                status = 0
        self.sent[delivery_id].statuses.append(status)
        return status

    async def _exchange(self, request: bytes) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            return int(head[9:12])
        finally:
            writer.close()

    async def deliver(self, delivery_id: str, delay: float, give_up: float) -> None:
        await asyncio.sleep(delay)
        while not 200 <= await self.post(delivery_id) < 300 and time.monotonic() < give_up:  # noqa: ASYNC110
            await asyncio.sleep(self.rng.uniform(2, 6))  # GitHub's redeliver, by hand

    async def resend(self, delivery_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.post(delivery_id)

    async def run(self, seconds: float, resend: float) -> None:
        ids = list(self.requests)
        give_up = time.monotonic() + seconds + 300
        tasks = []
        for i, delivery_id in enumerate(ids):
            at = i * seconds / len(ids)
            tasks.append(self.deliver(delivery_id, at, give_up))
            if self.rng.random() < resend:
                later = self.rng.random() < 0.5
                self.resent["later" if later else "concurrently"] += 1
                when = at + self.rng.uniform(1, seconds / 2 + 10) if later else at
                tasks.append(self.resend(delivery_id, when))
        await asyncio.gather(*tasks)


def _request(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    """The raw HTTP/1.1 request (a plain socket costs the sender far less CPU than a client
    library, so the sender does not take the machine's time from the app)."""
    lines = ["POST /webhooks/github HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
