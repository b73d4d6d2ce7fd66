"""Fixtures for the LLM client tests; the helpers themselves live in recordings.py."""

from __future__ import annotations

import pytest

from tests.llm.recordings import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
