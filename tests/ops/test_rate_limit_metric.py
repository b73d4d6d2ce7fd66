"""`issuewright_github_rate_limit_remaining` through the app: the value GitHub (the
simulator) last sent in `x-ratelimit-remaining` is what `/metrics` exports, and before GitHub
has sent one there is no such metric at all (a 0 would page someone for nothing)."""

from __future__ import annotations

from pathlib import Path

from githubkit.cache import MemCacheStrategy
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.github.access import GitHubAccess
from bot.jobs.dispatch import Router
from tests.conftest import make_settings
from tests.ghsim import GitHubSimulator

GAUGE = "issuewright_github_rate_limit_remaining"


def gauge(body: str) -> float | None:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == GAUGE:
                return sample.value
    return None


async def test_rate_limit_remaining_is_exported(
    tmp_path: Path, sqlite_url: str, github_sim: GitHubSimulator
) -> None:
    settings = make_settings(tmp_path, sqlite_url, **github_sim.settings_overrides())
    access = GitHubAccess.from_settings(
        settings, github_sim.transport(), cache_strategy=MemCacheStrategy()
    )
    github_sim.create_repo("octo-org", "hello", {"README.md": "# Hello\n"})
    installation = github_sim.create_installation("octo-org", type="Organization")
    app = create_app(settings, router=Router(), github=access)

    async with AsyncTestClient(app) as client:
        before = await client.get("/metrics")
        assert before.status_code == 200
        # No GitHub response seen yet: no value at all (not even its HELP line), not a 0.
        assert GAUGE not in before.text

        await access.api(installation.id).repository("octo-org", "hello")
        after = await client.get("/metrics")

    assert github_sim.rate_remaining < 5000  # the simulator counted our calls down
    assert gauge(after.text) == github_sim.rate_remaining


async def test_metrics_without_github_credentials(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_settings(tmp_path, sqlite_url), router=Router())
    async with AsyncTestClient(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert app.state.ctx.github is None
    assert GAUGE not in response.text
    assert "issuewright_database_up 1.0" in response.text  # the rest is exported as ever
