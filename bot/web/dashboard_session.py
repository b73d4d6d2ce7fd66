"""The dashboard's session: a signed, encrypted, HttpOnly, SameSite=Lax cookie (Litestar's
client-side session backend, AES-GCM) scoped to /dashboard, Secure when PUBLIC_URL is https.

Its key is derived from CLIENT_SECRET (HMAC-SHA256 with a fixed label), so the login needs no
setting of its own: rotating the App's client secret logs everyone out. The cookie expires
after `SESSION_MAX_AGE_SECONDS` (the browser drops it, the backend refuses it, and the login
time inside it is checked against the app's clock as well).

Every POST carries the session's CSRF token in a hidden form field (`csrf`); a request
without it, or with another, is refused before it does anything. The session holds the
person's login and what they may see, never their GitHub token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from bot.core.dashboard_access import SESSION_MAX_AGE_SECONDS, Viewer
from bot.settings import Settings

COOKIE = "issuewright_session"
CSRF_FIELD = "csrf"
Clock = Callable[[], float]


def oauth_configured(settings: Settings) -> bool:
    return bool(settings.client_id and settings.client_secret)


def session_key(client_secret: str) -> bytes:
    return hmac.new(
        client_secret.encode(), b"issuewright dashboard session", hashlib.sha256
    ).digest()


def session_config(settings: Settings) -> CookieBackendConfig | None:
    """None without OAuth credentials: then there is no login, and no page but the one that
    says what to configure."""
    if not settings.client_id or not settings.client_secret:
        return None
    return CookieBackendConfig(
        secret=session_key(settings.client_secret),
        key=COOKIE,
        path="/dashboard",
        max_age=SESSION_MAX_AGE_SECONDS,
        httponly=True,
        # Lax: sent on GitHub's redirect back to the callback, never with a cross-site POST.
        samesite="lax",
        secure=(settings.public_url or "").lower().startswith("https://"),
    )


class _Session:
    """Litestar's session middleware, built when the app is: a router is deep-copied when it
    is registered, and the backend's cipher cannot be copied; its config can."""

    def __init__(self, app: ASGIApp, config: CookieBackendConfig) -> None:
        self.inner = SessionMiddleware(app, backend=ClientSideSessionBackend(config=config))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner(scope, receive, send)


def session_middleware(settings: Settings) -> list[DefineMiddleware]:
    config = session_config(settings)
    return [DefineMiddleware(_Session, config=config)] if config is not None else []


def clock_of(request: Request[Any, Any, Any]) -> Clock:
    return getattr(request.app.state, "clock", None) or time.time


def viewer(request: Request[Any, Any, Any]) -> Viewer | None:
    """The person logged in, or None (never logged in, logged out, expired)."""
    if "session" not in request.scope:
        return None
    return Viewer.from_session(request.session or {}, clock_of(request)())


def log_in(request: Request[Any, Any, Any], who: Viewer) -> None:
    """A fresh session (nothing of the one before the login survives it), with its CSRF token."""
    data = who.to_session(clock_of(request)())
    data[CSRF_FIELD] = secrets.token_urlsafe(32)
    request.set_session(data)


def csrf_token(request: Request[Any, Any, Any]) -> str:
    return str((request.session or {}).get(CSRF_FIELD, "")) if "session" in request.scope else ""


async def check_csrf(request: Request[Any, Any, Any]) -> None:
    """Refuse (403) a POST whose form does not carry this session's CSRF token."""
    expected = csrf_token(request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise PermissionDeniedException(
            "missing or wrong CSRF token: reload the page and try again"
        )
