"""A hostile LLM endpoint on 127.0.0.1: a raw asyncio server that answers every request with
a status line and headers, then a body that never ends (fast, or one byte at a time).

It records what it did so tests synchronise on events (bytes sent, the client hung up)
instead of timers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass
class HostileEndpoint:
    # Called with the number of chunks sent so far; returns the next chunk (b"": stop sending
    # and hold the connection open until the client closes it).
    chunk: Callable[[int], bytes]
    content_type: str = "application/json"
    status: str = "200 OK"
    extra_headers: tuple[str, ...] = ()
    head: bytes = b""  # sent once before the endless part
    pace: float = 0.0  # seconds between chunks: the host's own pace, not a test timer
    connections: int = 0
    bytes_sent: int = 0
    answering: asyncio.Event = field(default_factory=asyncio.Event)  # body bytes are on the wire
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)  # the client closed on us
    port: int = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            headers = [f"content-type: {self.content_type}", "connection: close"]
            headers += self.extra_headers
            lines = "".join(f"{h}\r\n" for h in headers)
            writer.write(f"HTTP/1.1 {self.status}\r\n{lines}\r\n".encode() + self.head)
            n = 0
            # EOF on our read side: the client closed the connection (the answer was cut).
            while not reader.at_eof():
                data = self.chunk(n)
                if not data:  # nothing more to say: hold the connection until the client goes
                    await reader.read()
                    break
                writer.write(data)
                await writer.drain()
                n += 1
                self.bytes_sent += len(data)
                self.answering.set()
                if self.pace:
                    await asyncio.sleep(self.pace)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.hung_up.set()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Yields the base URL to configure the client with."""
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{self.port}/v1"
        finally:
            server.close()
            await server.wait_closed()
