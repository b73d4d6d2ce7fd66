"""Webhook ingest benchmark: the real receiver (SQLite, every delivery committed before its
202) next to a bare Litestar endpoint that answers 202 without reading the body, both served
by the same runner (uvicorn) in the same run. The server is pinned to core 0, the load
generator to core 1.

    .venv/bin/python -m bench.ingest [--seconds 8] [--connections 64]

Prints deliveries/s at saturation and p50/p99 latency at a fixed 200 deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests/fixtures/github-webhooks/issues.labeled.1.json"
SECRET = b"bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request_bytes(body: bytes, port: int) -> bytes:
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nX-GitHub-Event: issues\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\nX-Hub-Signature-256: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if length:
        await reader.readexactly(length)
    return status


async def saturate(port: int, body: bytes, seconds: float, connections: int) -> tuple[float, int]:
    """Closed loop: each connection sends its next request when the last one is answered."""
    requests = [request_bytes(body, port) for _ in range(int(seconds * 6000) + 1000)]
    sent = iter(requests)
    deadline = time.perf_counter() + seconds
    done = bad = 0

    async def conn() -> None:
        nonlocal done, bad
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            data = next(sent, None)
            if data is None:
                break
            writer.write(data)
            if await read_response(reader) == 202:
                done += 1
            else:
                bad += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(conn() for _ in range(connections)))
    return done / (time.perf_counter() - start), bad


async def fixed_rate(
    port: int, body: bytes, rate: float, seconds: float
) -> tuple[float, float, int]:
    """Open loop at `rate` requests/s over a pool of connections; latency per request."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(32):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    bad = 0
    total = int(rate * seconds)
    requests = [request_bytes(body, port) for _ in range(total)]

    async def one(data: bytes) -> None:
        nonlocal bad
        reader, writer = await pool.get()
        t0 = time.perf_counter()
        writer.write(data)
        status = await read_response(reader)
        latencies.append(time.perf_counter() - t0)
        bad += status != 202
        pool.put_nowait((reader, writer))

    start = time.perf_counter()
    tasks = []
    for i, data in enumerate(requests):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(data)))
    await asyncio.gather(*tasks)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return p50, p99, bad


def start_server(kind: str, port: int, url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "bench.ingest_server", kind, str(port), url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{kind} server did not start on port {port}")


def measure(kind: str, body: bytes, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    port = free_port()
    db = workdir / f"{kind}.db"
    proc = start_server(kind, port, f"sqlite+aiosqlite:///{db}")
    try:
        asyncio.run(saturate(port, body, 1.0, args.connections))  # warm-up
        rate, bad = asyncio.run(saturate(port, body, args.seconds, args.connections))
        p50, p99, bad_fixed = asyncio.run(fixed_rate(port, body, 200.0, args.seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    stored = None
    if kind != "bare":
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    return {"rate": rate, "bad": bad + bad_fixed, "p50": p50, "p99": p99, "stored": stored or 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--with-worker", action="store_true", help="also run the in-process worker")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    body = PAYLOAD.read_bytes()
    print(f"payload {PAYLOAD.name}: {len(body)} bytes; server on core 0, load on core 1")
    with tempfile.TemporaryDirectory() as tmp:
        bare = measure("bare", body, args, Path(tmp))
        app = measure("app+worker" if args.with_worker else "app", body, args, Path(tmp))
    print(f"{'':32}{'deliveries/s':>14}{'p50 ms @200/s':>16}{'p99 ms @200/s':>16}")
    rows = (("bare Litestar 202 (baseline)", bare), ("issuewright receiver (SQLite)", app))
    for label, row in rows:
        print(f"{label:32}{row['rate']:>14,.0f}{row['p50']:>16.2f}{row['p99']:>16.2f}")
    ratio = app["rate"] / bare["rate"]
    print(f"ratio receiver/bare: {ratio:.2f}x; non-202 answers: {app['bad']:.0f}")
    print(f"deliveries stored: {app['stored']:.0f}")


if __name__ == "__main__":
    main()
