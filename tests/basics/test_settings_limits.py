"""The operator's limits on LLM calls and jobs: defaults, values, and refused values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.env_values import SettingsError
from bot.settings import Settings


def from_env(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env, env_file=tmp_path / "absent.env")


def test_defaults(tmp_path: Path) -> None:
    s = from_env(tmp_path)
    assert s.llm_deadline_seconds == 300 and s.llm_deadline_seconds > s.llm_timeout_seconds
    assert s.llm_max_response_bytes == 8_000_000
    assert s.job_timeout_seconds == 1800
    assert s.installation_max_concurrent_jobs == 2


def test_values_are_read(tmp_path: Path) -> None:
    s = from_env(
        tmp_path,
        LLM_DEADLINE_SECONDS="600",
        LLM_MAX_RESPONSE_BYTES="5000000",
        JOB_TIMEOUT_SECONDS="3600",
        INSTALLATION_MAX_CONCURRENT_JOBS="1",
    )
    assert (s.llm_deadline_seconds, s.llm_max_response_bytes) == (600.0, 5_000_000)
    assert (s.job_timeout_seconds, s.installation_max_concurrent_jobs) == (3600.0, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LLM_DEADLINE_SECONDS", "0"),
        ("LLM_DEADLINE_SECONDS", "forever"),
        ("LLM_MAX_RESPONSE_BYTES", "10"),
        ("JOB_TIMEOUT_SECONDS", "0"),
        ("JOB_TIMEOUT_SECONDS", "-5"),
        ("INSTALLATION_MAX_CONCURRENT_JOBS", "0"),
    ],
)
def test_values_that_would_lift_or_break_a_limit_are_refused(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        from_env(tmp_path, **{name: value})
    assert name in str(raised.value) and "\n" not in str(raised.value)


def test_the_clients_defaults_are_the_settings_defaults() -> None:
    # A client built without the settings (tests, tools) is bounded the same way.
    from bot.llm.limits import DEFAULT_DEADLINE_SECONDS, DEFAULT_MAX_RESPONSE_BYTES

    assert Settings().llm_deadline_seconds == DEFAULT_DEADLINE_SECONDS
    assert Settings().llm_max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
