"""The part of a CI job log worth showing a model: where it failed, not the setup before it.

Logs are untrusted text (anyone's test output); the caller still cleans and fences them."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
_FAILURE = re.compile(
    r"##\[error\]|\berror\b|\bfailed\b|\bfailure\b|traceback \(most recent call last\)"
    r"|^E\s{2,}|assert(?:ion)?error|exit code [1-9]",
    re.IGNORECASE,
)
BEFORE, AFTER = 40, 20


def log_excerpt(log: str, max_chars: int = 6000) -> str:
    """Lines around the first failure marker of the log's last failing stretch, without ANSI
    colours or timestamps; the log's tail when nothing looks like a failure."""
    lines = [_TIMESTAMP.sub("", _ANSI.sub("", line)) for line in log.splitlines()]
    hits = [i for i, line in enumerate(lines) if _FAILURE.search(line)]
    if hits:
        last = hits[-1]
        first = last  # walk back to the start of the stretch of failure lines that ends here
        for i in reversed(hits):
            if first - i > BEFORE:
                break
            first = i
        start, end = max(0, first - BEFORE), min(len(lines), last + AFTER + 1)
    else:
        start, end = max(0, len(lines) - BEFORE - AFTER), len(lines)
    text = "\n".join(lines[start:end])
    if start:
        text = f"[… {start} earlier log lines left out …]\n" + text
    return text[-max_chars:]
