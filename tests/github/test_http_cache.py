"""The production GitHub client keeps no HTTP cache: a worker's CPU per call stays flat over
its life (issue 12: with githubkit's in-memory cache on, it rose sixfold in 2,250 calls)."""

from __future__ import annotations

from bot.github import make_app_github
from bot.settings import Settings


async def test_the_production_client_has_no_http_cache(github_settings: Settings) -> None:
    gh = make_app_github(github_settings)  # no transport or cache injected: as in production
    assert gh.config.http_cache is False
