"""Bounds on one LLM answer: how many bytes of it are read.

httpx's timeout is per read, so an endpoint that sends one byte a second never times out,
and a body that never ends is read into memory until the process dies. The deadline (in
`retry.RetryingHTTPClient.complete`) bounds the time; this module bounds the bytes, counted
after content decoding (a small gzip body can unpack to gigabytes) and checked as each chunk
arrives, so nothing past the cap is ever held.

A streamed answer wraps every few characters of text in an event of a few hundred bytes, so
its cap applies to what is held: the answer's text (counted by `streamed.TokenMeter`) and any
one line (a line reader buffers a line whole). The wire bytes, read and dropped event by
event, get `STREAM_WIRE_FACTOR` times the cap: enough for an answer as long as the cap sent
token by token, still an end for a stream of empty events (the deadline is the other).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from .base import ResponseTooLargeError

# The longest answer a model gives (~128k output tokens) is about 0.5 MB of text. The cap
# sits well above that, and above the 5 MB answers the edit checks refuse file by file with
# a repair round (max_file_bytes), so it only stops bodies no model would send, early.
DEFAULT_MAX_RESPONSE_BYTES = 8_000_000
STREAM_WIRE_FACTOR = 64
# Wall clock for one whole call: a little above the default per-read timeout (120 s) plus a
# retry, so a slow but honest local model still finishes.
DEFAULT_DEADLINE_SECONDS = 300.0
# An error answer is only read to classify it; its first bytes say what it is.
ERROR_BODY_LIMIT = 64 * 1024

# These describe the bytes on the wire; the capped response holds them decoded.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, source: httpx.Response, max_bytes: int, provider: str, events: bool) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._provider = provider
        self._events = events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = line = 0
        wire_cap = self._max_bytes * (STREAM_WIRE_FACTOR if self._events else 1)
        async for chunk in self._source.aiter_bytes():
            total += len(chunk)
            end = chunk.rfind(b"\n")
            line = line + len(chunk) if end < 0 else len(chunk) - end - 1
            if total > wire_cap:
                raise self._too_large(f"the answer passed {wire_cap:,} bytes")
            if line > self._max_bytes:
                raise self._too_large(f"one line of the answer passed {self._max_bytes:,} bytes")
            yield chunk

    def _too_large(self, detail: str) -> ResponseTooLargeError:
        return ResponseTooLargeError(detail, provider=self._provider, limit_bytes=self._max_bytes)

    async def aclose(self) -> None:
        await self._source.aclose()


def capped(
    response: httpx.Response, max_bytes: int, provider: str, *, events: bool = False
) -> httpx.Response:
    """A response whose body (read, streamed as bytes, lines or server-sent events) raises
    ResponseTooLargeError as soon as more than `max_bytes` decoded bytes arrived (with
    `events`, a stream read event by event: `STREAM_WIRE_FACTOR` times that, no line longer
    than `max_bytes`; the caller caps the text it keeps)."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        stream=_CappedStream(response, max_bytes, provider, events),
        request=response.request,
    )


async def read_error_body(response: httpx.Response, limit: int = ERROR_BODY_LIMIT) -> str:
    """The start of an error answer, as text. Reading stops at `limit`: an endless error body
    is still classified by its status, not waited for."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit]).decode(response.encoding or "utf-8", errors="replace")
