"""Settings of issue 12: a lease the heartbeat can keep, a store wait under GitHub's timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs.worker import heartbeat_seconds
from bot.settings import Settings, SettingsError


def from_env(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env, env_file=tmp_path / "absent.env")


@pytest.mark.parametrize("value", ["5", "14"])
def test_a_lease_the_heartbeat_cannot_keep_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="JOB_LEASE_SECONDS must be at least 15"):
        from_env(tmp_path, JOB_LEASE_SECONDS=value)


def test_heartbeat_is_a_third_of_the_lease(tmp_path: Path) -> None:
    assert from_env(tmp_path, JOB_LEASE_SECONDS="15").job_lease_seconds == 15
    assert heartbeat_seconds(15) == 5 and heartbeat_seconds(300) == 100


def test_store_wait_stays_under_githubs_ten_seconds(tmp_path: Path) -> None:
    assert from_env(tmp_path).webhook_store_wait_seconds == 5
    assert from_env(tmp_path, WEBHOOK_STORE_WAIT_SECONDS="3").webhook_store_wait_seconds == 3
    with pytest.raises(SettingsError, match="WEBHOOK_STORE_WAIT_SECONDS must be at most 9"):
        from_env(tmp_path, WEBHOOK_STORE_WAIT_SECONDS="10")
