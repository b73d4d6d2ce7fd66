"""The command line decides between rich and plain output by whether stdout is a terminal;
a developer's `FORCE_COLOR` or `TTY_COMPATIBLE` would make captured output look like one."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
