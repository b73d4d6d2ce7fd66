"""pytest plugin: `app_private_key` (session), `github_sim`, `github_settings`,
`app_github` and `github_api` (a `GitHubAPI` on an installation client bound to the sim).

Register with `pytest_plugins = ["tests.ghsim.fixtures"]` in the root conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit.cache import MemCacheStrategy

from bot.github import GitHubAPI, installation_client, make_app_github
from bot.settings import Settings

from .simulator import GitHubSimulator


def new_app_private_key() -> str:
    """A fresh RSA key in PEM, as GitHub hands an App (generating one takes ~50 ms)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def app_private_key() -> str:
    """One key per session."""
    return new_app_private_key()


def assert_no_violations(sim: GitHubSimulator) -> None:
    problems = [str(v) for v in sim.violations] + sim.delivery_errors
    if problems:
        pytest.fail("GitHub simulator saw contract problems:\n  " + "\n  ".join(problems))


@pytest.fixture
def github_sim(tmp_path: Path, app_private_key: str) -> Iterator[GitHubSimulator]:
    """A fresh simulator; at teardown it must have seen no contract violation (a test that
    provokes one on purpose clears `sim.violations` after asserting it)."""
    sim = GitHubSimulator(tmp_path / "github", private_key_pem=app_private_key)
    yield sim
    assert_no_violations(sim)


@pytest.fixture
def github_settings(github_sim: GitHubSimulator) -> Settings:
    return Settings(webhook_secret="test-secret", **github_sim.settings_overrides())


@pytest.fixture
async def app_github(github_sim: GitHubSimulator, github_settings: Settings) -> AsyncIterator:
    yield make_app_github(
        github_settings, transport=github_sim.transport(), cache_strategy=MemCacheStrategy()
    )


@pytest.fixture
async def github_api(
    github_sim: GitHubSimulator, app_github, github_settings: Settings
) -> GitHubAPI:
    """`GitHubAPI` acting as the installation on account "octo-org" (created here), which
    covers every repository the test creates under that account."""
    inst = github_sim.create_installation("octo-org", type="Organization")
    return GitHubAPI(installation_client(app_github, inst.id), github_settings)
