"""What every command-line test runs with.

The command line decides between rich and plain output by whether stdout is a terminal; a
developer's `FORCE_COLOR` or `TTY_COMPATIBLE` would make captured output look like one. Its
cache (repository maps) goes to a folder of the test, never the developer's ~/.cache."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("ISSUEWRIGHT_CACHE_DIR", str(cache))
    return cache
