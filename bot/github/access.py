"""Per-process GitHub access for handlers: an installation-scoped API per job, and
installation tokens for git (kept in memory only, renewed before they expire)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.github import (
    GitHubAPI,
    close_app_github,
    create_installation_token,
    installation_client,
    make_app_github,
)
from bot.settings import Settings


@dataclass
class GitHubAccess:
    settings: Settings
    app_github: Any
    _tokens: dict[int, tuple[str, datetime]] = field(default_factory=dict, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None, **kw: Any
    ) -> GitHubAccess:
        return cls(settings, make_app_github(settings, transport=transport, **kw))

    def api(self, installation_id: int) -> GitHubAPI:
        return GitHubAPI(installation_client(self.app_github, installation_id), self.settings)

    async def git_token(self, installation_id: int) -> str:
        """A token for `x-access-token` git pushes; never logged nor stored on disk."""
        async with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - datetime.now(UTC) > timedelta(minutes=5):
                return cached[0]
            token = await create_installation_token(self.app_github, installation_id)
            try:
                expires = datetime.fromisoformat(token.expires_at.replace("Z", "+00:00"))
            except ValueError:
                expires = datetime.now(UTC) + timedelta(minutes=30)
            self._tokens[installation_id] = (token.token, expires)
            return token.token

    async def aclose(self) -> None:
        """Close the process's shared connection pool (a no-op for injected transports)."""
        self._tokens.clear()
        await close_app_github(self.app_github)

    @property
    def bot_login(self) -> str:
        return f"{self.settings.app_slug}[bot]"
