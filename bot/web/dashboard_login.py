"""Logging in to the dashboard with GitHub: `GET /dashboard/login` sends the person to GitHub
with a fresh `state` kept in the session, `GET /dashboard/login/callback` checks that state,
lets githubkit exchange the code (`github/user_access.py`) and keeps in the session who they
are and what they may push to, `POST /dashboard/logout` (CSRF-checked) ends the session."""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response, get, post
from litestar.response import Redirect

from bot.core.dashboard_access import viewer_for
from bot.github.user_access import LoginFailed, user_access
from bot.settings import Settings
from bot.web.dashboard_session import check_csrf, log_in, oauth_configured, viewer
from bot.web.templating import render

log = logging.getLogger(__name__)

CALLBACK_PATH = "/dashboard/login/callback"
STATE_KEY = "oauth_state"


def callback_url(settings: Settings, request: Request[Any, Any, Any]) -> str:
    """PUBLIC_URL + the callback path (the App's "Callback URL" on GitHub must match it)."""
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}{CALLBACK_PATH}"


def page(template: str, http_status: int = 200, **context: Any) -> Response[str]:
    return Response(
        render(template, **context),
        status_code=http_status,
        media_type=MediaType.HTML,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            "Referrer-Policy": "same-origin",
        },
    )


def login_page(settings: Settings, problem: str | None = None, status: int = 200) -> Response[str]:
    return page(
        "dashboard_login.html.j2",
        status,
        configured=oauth_configured(settings),
        problem=problem,
        callback_path=CALLBACK_PATH,
        public_url=settings.public_url,
        viewer=None,
        csrf="",
        refresh=False,
    )


@get("/login", summary="Log in with GitHub", status_code=200)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    settings: Settings = request.app.state.settings
    if not oauth_configured(settings):
        return login_page(settings)
    if viewer(request) is not None:  # already in: a link from elsewhere must not log out
        return Redirect("/dashboard", status_code=303)
    state = secrets.token_urlsafe(24)
    request.set_session({STATE_KEY: state})  # a fresh session: nothing from before survives
    query = urlencode(
        {
            "client_id": settings.client_id,
            "redirect_uri": callback_url(settings, request),
            "state": state,
        }
    )
    return Redirect(f"{settings.github_web_url}/login/oauth/authorize?{query}", status_code=303)


@get(
    "/login/callback", summary="GitHub's redirect back after the person authorized", status_code=200
)
async def login_callback(request: Request[Any, Any, Any]) -> Response[Any]:
    """Query: `code` and `state`, or GitHub's `error` and `error_description`."""
    settings: Settings = request.app.state.settings
    query = request.query_params
    code, state, error = query.get("code"), query.get("state"), query.get("error")
    error_description = query.get("error_description")
    if not oauth_configured(settings):
        return login_page(settings)
    expected = (request.session or {}).get(STATE_KEY)
    request.clear_session()
    if not expected or not state or not secrets.compare_digest(str(expected), state):
        return login_page(
            settings, "This login link was not started here or was already used: log in again.", 403
        )
    if error or not code:
        why = error_description or error or "no code"
        return login_page(settings, f"GitHub did not authorize the login: {why}.", 403)
    ctx = getattr(request.app.state, "ctx", None)
    access = getattr(ctx, "github", None)
    config = getattr(getattr(access, "app_github", None), "config", None)
    try:
        found = await user_access(
            settings,
            code,
            callback_url(settings, request),
            transport=getattr(config, "async_transport", None),
        )
    except LoginFailed as exc:
        log.warning("dashboard login failed: %s", exc)
        return login_page(settings, f"{exc}: log in again, or ask the operator.", 502)
    who = viewer_for(found.login, settings.admin_logins, found.repositories)
    log_in(request, who)
    log.info(
        "dashboard login: %s (%s)",
        who.login,
        "operator" if who.admin else f"{len(who.repository_ids)} repositories",
    )
    return Redirect("/dashboard", status_code=303)


@post("/logout", summary="Log out", status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    await check_csrf(request)
    request.clear_session()
    return Redirect("/dashboard", status_code=303)


LOGIN_ROUTES = [login, login_callback, logout]
