"""Logging in with GitHub: the App's OAuth web flow through githubkit
(`OAuthWebAuthStrategy`), then what the person can push to, asked with their own user token.

githubkit exchanges the code at the OAuth host it derives from GITHUB_API_URL (github.com for
api.github.com, the server's root for GitHub Enterprise Server). The user token lives only
inside this call: it is neither returned, stored nor logged; what it reads is returned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from githubkit import GitHub, OAuthWebAuthStrategy, UnauthAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException

from bot.settings import Settings

PER_PAGE = 100
MAX_PAGES = 10  # 1,000 installations or repositories per installation are plenty for a page


class LoginFailed(Exception):
    """The login could not be completed; the message says why, in one line, without secrets."""


@dataclass(frozen=True)
class UserAccess:
    """The person's login and, per installation of this App they can see, the repository
    objects their token lists (each with its `permissions`)."""

    login: str
    repositories: Mapping[int, list[dict[str, Any]]]


async def _pages(gh: GitHub[Any], url: str, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        response = await gh.arequest("GET", url, params={"per_page": PER_PAGE, "page": page})
        items = response.json().get(key) or []
        found += [item for item in items if isinstance(item, dict)]
        if len(items) < PER_PAGE:
            break
    return found


async def user_access(
    settings: Settings,
    code: str,
    redirect_uri: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> UserAccess:
    """Exchange the callback's `code` for a user token and read what it can see."""
    if not settings.client_id or not settings.client_secret:
        raise LoginFailed("CLIENT_ID and CLIENT_SECRET are not set")
    strategy = OAuthWebAuthStrategy(settings.client_id, settings.client_secret, code, redirect_uri)
    # The exchange goes through a client without authentication: one holding the web-flow
    # strategy would exchange the code in its own auth flow first, then again (githubkit
    # 0.16), and a code works once.
    gh: GitHub[Any] = GitHub(
        UnauthAuthStrategy(),
        base_url=settings.github_api_url,
        user_agent=f"{settings.app_slug} (githubkit)",
        async_transport=transport,
        cache_strategy=MemCacheStrategy(),
        http_cache=False,
    )
    try:
        gh = gh.with_auth(await strategy.async_exchange_token(gh))
        login = (await gh.arequest("GET", "/user")).json()["login"]
        installations = await _pages(gh, "/user/installations", "installations")
        repositories = {
            int(inst["id"]): await _pages(
                gh, f"/user/installations/{int(inst['id'])}/repositories", "repositories"
            )
            for inst in installations
        }
    except GitHubException as exc:
        # githubkit's messages carry no token; the class name is enough to act on.
        raise LoginFailed(f"GitHub refused the login ({type(exc).__name__})") from None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise LoginFailed(f"GitHub could not be asked ({type(exc).__name__})") from None
    return UserAccess(str(login), repositories)
