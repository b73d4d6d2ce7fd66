"""The githubkit App client, installation clients, transports, rate limits and error mapping.

githubkit owns authentication (JWT, installation tokens, their caching) and retries (server
errors; rate limits only when the wait is short). Nothing here retries a second time.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.retry import RETRY_SERVER_ERROR, RetryChainDecision, RetryOption

from bot.settings import Settings

# One logger name for the whole package, so log configuration written for `bot.github`
# before the split keeps matching.
log = logging.getLogger("bot.github")


class GitHubError(Exception):
    """A GitHub call failed with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message


class RateLimited(GitHubError):
    """A call was refused for rate limiting; retry after `reset_at` (UTC)."""

    def __init__(self, reset_at: datetime) -> None:
        self.reset_at = reset_at
        super().__init__(403, f"GitHub rate limit: paused until {reset_at:%H:%M} UTC")
        self.args = (self.message,)

    def __str__(self) -> str:
        return self.message


class RateLimitMonitor:
    """httpx response hook: logs `x-ratelimit-remaining` and keeps the last value."""

    def __init__(self, warn_below: int = 200) -> None:
        self.warn_below = warn_below
        self.remaining: int | None = None
        self.reset_at: datetime | None = None

    async def __call__(self, response: httpx.Response) -> None:
        raw = response.headers.get("x-ratelimit-remaining")
        if raw is None or not raw.isdigit():
            return
        self.remaining = int(raw)
        reset = response.headers.get("x-ratelimit-reset", "")
        self.reset_at = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
        level = logging.WARNING if self.remaining < self.warn_below else logging.DEBUG
        log.log(level, "GitHub rate limit remaining: %s", self.remaining)


class RetryShortRateLimit:
    """Let githubkit retry a rate-limited call once, only when the wait is short; a longer
    limit surfaces at once (as `RateLimited`) so the job is rescheduled, not left hanging."""

    def __init__(self, max_wait: timedelta) -> None:
        self.max_wait = max_wait

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count < 1 and isinstance(exc, RateLimitExceeded):
            if exc.retry_after <= self.max_wait:
                # githubkit sleeps 60 s when handed a zero wait (`retry_after or 60`).
                return RetryOption(True, max(exc.retry_after, timedelta(milliseconds=1)))
        return RetryOption(False)


class _SharedTransport(httpx.AsyncBaseTransport):
    """One connection pool for every client of the process; githubkit closes its httpx client
    after each call, which must not close the pool."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:  # closed by `close_app_github` at shutdown
        return None


def _pooled_transport() -> httpx.AsyncBaseTransport | None:
    # httpx ignores HTTPS_PROXY / NO_PROXY once a transport is given: behind a proxy, leave
    # the clients to httpx (one connection per call) rather than bypass the proxy.
    proxies = urllib.request.getproxies()
    return None if ("https" in proxies or "all" in proxies) else _SharedTransport()


def make_app_github(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    cache_strategy: BaseCacheStrategy | None = None,
    max_rate_limit_wait: timedelta = timedelta(seconds=30),
) -> GitHub[AppAuthStrategy]:
    """The App client; build it once per process and derive installation clients from it.
    Tests pass `transport` and/or `cache_strategy`: then githubkit's process-wide token cache
    is not used (a fresh `MemCacheStrategy`). The HTTP cache is off everywhere."""
    if not settings.app_id or not settings.private_key:
        raise ValueError("GitHub App credentials missing: set APP_ID and PRIVATE_KEY")
    isolated = transport is not None or cache_strategy is not None
    return GitHub(
        AppAuthStrategy(settings.app_id, settings.private_key),
        base_url=settings.github_api_url,
        user_agent=f"{settings.app_slug} (githubkit)",
        async_transport=transport or _pooled_transport(),
        cache_strategy=(cache_strategy or MemCacheStrategy()) if isolated else None,
        # No HTTP cache: githubkit's (hishel, in memory, unbounded) made each call of a worker
        # cost more CPU the longer it ran (23 → 145 ms per three calls over 2,250 calls).
        http_cache=False,
        auto_retry=RetryChainDecision(RetryShortRateLimit(max_rate_limit_wait), RETRY_SERVER_ERROR),
        async_event_hooks={"response": [RateLimitMonitor()]},
    )


async def close_app_github(app_github: GitHub[Any]) -> None:
    transport = app_github.config.async_transport
    if isinstance(transport, _SharedTransport):
        await transport.inner.aclose()


def rate_limit_monitor(gh: GitHub[Any]) -> RateLimitMonitor | None:
    """The monitor shared by an App client and its installation clients (for metrics)."""
    hooks = (gh.config.async_event_hooks or {}).get("response", [])
    return next((h for h in hooks if isinstance(h, RateLimitMonitor)), None)


def installation_client(app_github: GitHub[AppAuthStrategy], installation_id: int) -> GitHub:
    """A client acting as one installation (same config, token cached by githubkit)."""
    return app_github.with_auth(app_github.auth.as_installation(installation_id))


@dataclass(frozen=True)
class InstallationToken:
    token: str = ""
    expires_at: str = ""

    def __repr__(self) -> str:  # never log the token
        return f"InstallationToken(expires_at={self.expires_at!r})"


async def create_installation_token(
    app_github: GitHub[AppAuthStrategy], installation_id: int
) -> InstallationToken:
    """A fresh token for git over HTTPS (`x-access-token:<token>@`)."""
    rest = app_github.rest.apps
    data = await call(lambda: rest.async_create_installation_access_token(installation_id))
    return InstallationToken(data["token"], data["expires_at"])


@contextmanager
def github_errors() -> Iterator[None]:
    """Map githubkit's failures to ours: `RateLimited`, or `GitHubError` with the status.
    Installation-token requests fail inside httpx's auth flow and arrive wrapped in a
    `RequestError`: those are unwrapped the same way."""
    try:
        yield
    except RequestFailed as exc:
        raise _mapped(exc) from exc
    except RequestError as exc:
        if isinstance(exc.exc, RequestFailed):
            raise _mapped(exc.exc) from exc
        raise


def _mapped(exc: RequestFailed) -> GitHubError:
    if isinstance(exc, RateLimitExceeded):
        limited = RateLimited(datetime.now(UTC) + exc.retry_after)
        log.warning("%s (%s %s)", limited.message, exc.request.method, exc.request.url.path)
        return limited
    body = read_json(exc.response.raw_response)
    message = body.get("message", "") if isinstance(body, dict) else ""
    return GitHubError(exc.response.status_code, message or repr(exc))


async def call(request: Callable[[], Awaitable[Any]]) -> Any:
    """Run one githubkit call and return its JSON (read leniently, never `parsed_data`:
    githubkit's strict models reject real payloads)."""
    with github_errors():
        response = await request()
    return read_json(response.raw_response)


def read_json(response: httpx.Response) -> Any:
    """The body as JSON; None when empty or not JSON (a 204, an HTML error page)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
