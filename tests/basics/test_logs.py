"""Log scrubbing and JSON lines, through `configure_logging` as `serve` and `worker` call it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from bot.logs import configure_logging, scrub

WEBHOOK_SECRET = "whsec-9f8e7d6c5b4a"
INSTALLATION_TOKEN = "ghs_" + "A1b2C3d4E5" * 3 + "f6G7h8"  # 36 characters, as GitHub's
URL_PASSWORD = "v1.3f9a8b7c6d5e4f30a1b2"
REMOTE = f"https://x-access-token:{URL_PASSWORD}@github.com/octo-org/hello.git"
PEM_BODY = "MIIEowIBAAKCAQEAx2Jm" + "q" * 40
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
LEAKS = (WEBHOOK_SECRET, INSTALLATION_TOKEN, URL_PASSWORD, PEM_BODY)


@pytest.fixture
def capture() -> Iterator[Callable[[str], io.StringIO]]:
    """Configure logging for real, write to a buffer, restore pytest's handlers after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    noisy = {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "aiosqlite")}
    noisy["uvicorn.access"] = logging.getLogger("uvicorn.access").level

    def configure(fmt: str) -> io.StringIO:
        configure_logging("INFO", fmt, [WEBHOOK_SECRET])
        stream = io.StringIO()
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        return stream

    yield configure
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


def emit_everything() -> None:
    log = logging.getLogger("bot.test_logs")
    context = {"delivery_id": "d-123", "task_id": 7}
    log.info("verifying with secret %s", WEBHOOK_SECRET, extra=context)
    log.info("token %s for %s", INSTALLATION_TOKEN, REMOTE, extra=context)
    log.warning("key loaded:\n%s", PEM, extra=context)
    try:
        raise RuntimeError(f"git push {REMOTE} failed; token {INSTALLATION_TOKEN}; {PEM}")
    except RuntimeError:
        log.exception("push failed", extra=context)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_the_output(capture, fmt: str) -> None:
    stream = capture(fmt)
    emit_everything()
    output = stream.getvalue()
    for leak in LEAKS:
        assert leak not in output
    assert output.count("[redacted]") >= 6
    # What makes a line useful stays: the host and repository, the exception type.
    assert "github.com/octo-org/hello.git" in output
    assert "RuntimeError" in output and "Traceback" in output


def test_json_lines_carry_the_job_context(capture) -> None:
    stream = capture("json")
    emit_everything()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 4  # the traceback is inside its record's line, not lines of its own
    assert all(line["delivery_id"] == "d-123" and line["task_id"] == 7 for line in lines)
    assert [line["level"] for line in lines] == ["INFO", "INFO", "WARNING", "ERROR"]
    failed = lines[-1]
    assert failed["message"] == "push failed"
    assert "RuntimeError" in failed["exception"]
    assert INSTALLATION_TOKEN not in failed["exception"]
    assert "job_id" not in failed  # absent context is left out, not null


def test_scrub_removes_configured_values_and_known_patterns() -> None:
    text = f"secret={WEBHOOK_SECRET} other {WEBHOOK_SECRET}x {INSTALLATION_TOKEN} {REMOTE}"
    cleaned = scrub(text, [WEBHOOK_SECRET])
    assert all(leak not in cleaned for leak in LEAKS)
    # A configured value is removed wherever it appears, not only where a pattern matches.
    assert "[redacted]x" in cleaned
    # Short configured values would match ordinary words: they are not treated as secrets.
    assert scrub("the cat sat", ["cat"]) == "the cat sat"
