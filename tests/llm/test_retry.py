"""The retry layer on its own: Retry-After parsing and which errors it retries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.llm import (
    AuthenticationError,
    MalformedResponseError,
    ProviderUnavailableError,
    RateLimitedError,
)
from bot.llm.retry import call_with_retries, is_transient, parse_retry_after
from tests.llm.recordings import FakeTime

NOW = datetime(2025, 11, 22, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise one wins
        ({"retry-after": "Sat, 22 Nov 2025 09:00:30 GMT"}, 30.0),
        ({"retry-after": "Sat, 22 Nov 2025 08:59:00 GMT"}, 0.0),  # already past
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == seconds


def test_absurd_retry_after_is_capped() -> None:
    assert parse_retry_after({"retry-after": "99999999"}) == 24 * 3600


def test_only_rate_limits_and_unavailability_are_transient() -> None:
    assert is_transient(RateLimitedError("x"))
    assert is_transient(ProviderUnavailableError("x"))
    assert not is_transient(AuthenticationError("x"))
    assert not is_transient(MalformedResponseError("x"))
    assert not is_transient(ValueError("x"))


async def test_a_bug_in_our_code_is_not_retried(fake_time: FakeTime) -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise KeyError("oops")

    with pytest.raises(KeyError):
        await call_with_retries(attempt, fake_time.policy())
    assert calls == 1 and fake_time.sleeps == []


async def test_backoff_grows_and_is_capped(fake_time: FakeTime) -> None:
    async def attempt() -> str:
        raise ProviderUnavailableError("down")

    policy = fake_time.policy(max_attempts=6, jitter=0.0, initial_backoff=1.0, max_backoff=5.0)
    with pytest.raises(ProviderUnavailableError) as caught:
        await call_with_retries(attempt, policy)
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert caught.value.attempts == 6
