"""GitHub's OAuth web flow, as a GitHub App's user authorization sees it (docs: "Generating a
user access token for a GitHub App"), on the simulator's web host:

- `GET /login/oauth/authorize?client_id&redirect_uri&state`: GitHub's consent page. Here a tiny
  form where the test (or the browser it drives) names the simulated person who approves
  (`sim.signed_in` fills it in, as GitHub's own session would); "Authorize" redirects to
  `redirect_uri?code=…&state=…`, "Cancel" to `?error=access_denied…&state=…`. A `redirect_uri`
  outside the App's callback URLs redirects to the first one with `error=redirect_uri_mismatch`.
- `POST /login/oauth/access_token` (client_id, client_secret, code, redirect_uri as a form, a
  query or JSON): HTTP 200 either way, JSON with `Accept: application/json`, form-encoded
  otherwise; a used, expired or unknown code is `error=bad_verification_code`. Tokens expire
  (GitHub Apps' default): `ghu_…` with `expires_in`, and a `ghr_…` refresh token.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

if TYPE_CHECKING:
    from .simulator import GitHubSimulator

CODE_LIFETIME_SECONDS = 600  # GitHub: "The code will expire after 10 minutes"
ERROR_URI = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
ERRORS = {
    "bad_verification_code": "The code passed is incorrect or expired.",
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this application.",
    "access_denied": "The user has denied your application access.",
}


@dataclass
class Grant:
    login: str
    client_id: str
    redirect_uri: str
    expires_at: float


@dataclass
class WebReply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None


def callback_allowed(registered: list[str], redirect_uri: str) -> bool:
    """GitHub's rule: same scheme, host and port as a callback URL, and its path below it."""
    wanted = urlsplit(redirect_uri)
    for url in registered:
        ok = urlsplit(url)
        if (ok.scheme, ok.netloc) == (wanted.scheme, wanted.netloc) and (
            wanted.path == ok.path or wanted.path.startswith(ok.path.rstrip("/") + "/")
        ):
            return True
    return False


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _error_redirect(url: str, error: str, state: str) -> WebReply:
    params = {"error": error, "error_description": ERRORS[error], "error_uri": ERROR_URI}
    return WebReply(302, location=_with_query(url, {**params, "state": state}))


def _page(title: str, body: str, status: int = 200) -> WebReply:
    text = f"<!doctype html><title>{title}</title><h1>{title}</h1>{body}"
    return WebReply(status, text.encode())


async def handle(
    sim: GitHubSimulator, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
) -> WebReply | None:
    """The reply for a web-flow request, or None when `path` is not one."""
    params = dict(parse_qsl(query))
    if raw and "json" in headers.get("content-type", ""):
        params.update({k: str(v) for k, v in json.loads(raw).items()})
    elif raw:
        params.update(parse_qsl(raw.decode()))
    if path == "/favicon.ico":  # asked by every browser that opens the consent page
        return WebReply(404)
    if path == "/login/oauth/authorize":
        return _authorize(sim, method, params)
    if path == "/login/oauth/access_token" and method == "POST":
        return _access_token(sim, params, "json" in headers.get("accept", ""))
    return None


def _authorize(sim: GitHubSimulator, method: str, params: dict[str, str]) -> WebReply:
    if params.get("client_id") != sim.oauth_client_id:
        return _page("404 Not Found", "<p>No application with this client id.</p>", 404)
    if not sim.oauth_callback_urls:
        return _page("Error", "<p>This GitHub App has no callback URL.</p>", 400)
    state = params.get("state", "")
    redirect_uri = params.get("redirect_uri") or sim.oauth_callback_urls[0]
    if not callback_allowed(sim.oauth_callback_urls, redirect_uri):
        return _error_redirect(sim.oauth_callback_urls[0], "redirect_uri_mismatch", state)
    if method == "POST":
        if params.get("authorize") != "1":
            return _error_redirect(redirect_uri, "access_denied", state)
        login = params.get("login", "").strip()
        if login not in sim.state.users:
            return _page("Error", f"<p>No user {html.escape(login)}.</p>", 422)
        code = secrets.token_hex(10)
        sim.oauth_codes[code] = Grant(
            login, sim.oauth_client_id, redirect_uri, time.time() + CODE_LIFETIME_SECONDS
        )
        return WebReply(302, location=_with_query(redirect_uri, {"code": code, "state": state}))
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
        for name in ("client_id", "redirect_uri", "state")
    )
    form = (
        f'<form method="post" action="/login/oauth/authorize">{hidden}'
        f'<label>Signed in as <input name="login" value="{html.escape(sim.signed_in or "")}">'
        "</label> "
        f'<button name="authorize" value="1">Authorize {html.escape(sim.app.name)}</button> '
        '<button name="authorize" value="0">Cancel</button></form>'
    )
    return _page(f"Authorize {html.escape(sim.app.name)}", form)


def _access_token(sim: GitHubSimulator, params: dict[str, str], as_json: bool) -> WebReply:
    if (params.get("client_id"), params.get("client_secret")) != (
        sim.oauth_client_id,
        sim.oauth_client_secret,
    ):
        answer: dict[str, Any] = {"error": "incorrect_client_credentials"}
    else:
        grant = sim.oauth_codes.pop(params.get("code", ""), None)  # a code works once
        if grant is None or grant.expires_at < time.time():
            answer = {"error": "bad_verification_code"}
        elif params.get("redirect_uri") not in (None, "", grant.redirect_uri):
            answer = {"error": "redirect_uri_mismatch"}
        else:
            token = f"ghu_{secrets.token_hex(18)}"
            sim.user_tokens[token] = grant.login
            answer = {
                "access_token": token,
                "expires_in": 28800,
                "refresh_token": f"ghr_{secrets.token_hex(30)}",
                "refresh_token_expires_in": 15811200,
                "scope": "",
                "token_type": "bearer",
            }
    if "error" in answer:
        answer.update(error_description=ERRORS[answer["error"]], error_uri=ERROR_URI)
    if as_json:
        return WebReply(200, json.dumps(answer).encode(), "application/json; charset=utf-8")
    form = urlencode({k: str(v) for k, v in answer.items()})
    return WebReply(200, form.encode(), "application/x-www-form-urlencoded; charset=utf-8")
