"""`GET /setup`: register the GitHub App the Probot way, while the server has no credentials.

The page posts the manifest (app.yml + this server's URLs) to GitHub's manifest flow; GitHub
redirects back to `/setup/callback?code=…&state=…`, where the code is exchanged
(`POST /app-manifests/{code}/conversions`) for the app's id, key and secrets. They are written
to `settings.env_file` (mode 0600) as APP_ID, PRIVATE_KEY (the PEM on one double-quoted line,
newlines as `\\n`, which python-dotenv and `Settings.from_env` both read back), WEBHOOK_SECRET,
CLIENT_ID, CLIENT_SECRET and APP_SLUG; other lines of an existing file are kept. Existing
credentials are never replaced without a confirmation checkbox, and no secret is ever logged or
shown. Once the app is configured, both routes answer 404 with one line saying so.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import yaml
from dotenv import dotenv_values
from litestar import MediaType, Request, Response, get

from bot.envfile import CREDENTIAL_KEYS, write_env
from bot.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "app.yml"
STATE_TTL_SECONDS = 3600.0  # GitHub's manifest codes expire after an hour, so states may too
MAX_PENDING = 256  # the page is unauthenticated: bound what page views can make us keep
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
_LOCAL_NOTE = (
    "<p><strong>GitHub cannot deliver webhooks to {}.</strong> Set PUBLIC_URL to an address "
    "GitHub reaches (a tunnel works for trying it out) and reload, or change the webhook URL "
    "in the app's settings later.</p>"
)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 (compared, not bound)
_HEADERS = {
    # The callback URL carries the code: keep it out of caches and of the Referer sent to GitHub.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Pending:
    org: str | None
    force: bool
    created: float


class StateStore:
    """One random state per page view, kept in memory until its callback succeeds or expires."""

    def __init__(self, ttl: float = STATE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.clock = ttl, clock
        self._pending: OrderedDict[str, Pending] = OrderedDict()

    def issue(self, org: str | None, force: bool) -> str:
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
        state = secrets.token_urlsafe(24)
        self._pending[state] = Pending(org, force, self.clock())
        return state

    def get(self, state: str) -> Pending | None:
        pending = self._pending.get(state)
        if pending is not None and self.clock() - pending.created > self.ttl:
            del self._pending[state]
            return None
        return pending

    def discard(self, state: str) -> None:
        self._pending.pop(state, None)


def build_manifest(template: dict[str, Any], public_url: str) -> dict[str, Any]:
    """app.yml plus this server's URLs. `setup_url` and `callback_urls` are left out: the bot
    has no post-install page and never acts as a user, so they would point nowhere."""
    base = public_url.rstrip("/")
    manifest = json.loads(json.dumps(template))  # a deep copy that is also proven JSON-safe
    manifest["url"] = base  # the homepage: `/` on this server says what the app is
    manifest.setdefault("hook_attributes", {})["url"] = f"{base}/webhooks/github"
    manifest["redirect_url"] = f"{base}/setup/callback"
    return manifest


def existing_credentials(settings: Settings) -> list[str]:
    """Credential names already set in the environment at start or in the .env file now (the
    file may have been written by an earlier callback since this process started)."""
    try:
        in_file = dotenv_values(settings.env_file) if settings.env_file.is_file() else {}
    except OSError:  # unreadable: assume the worst, the confirmed write then says why it failed
        return [f"{settings.env_file} (unreadable)"]
    at_start = {
        "APP_ID": settings.app_id,
        "PRIVATE_KEY": settings.private_key,
        "WEBHOOK_SECRET": settings.webhook_secret,
    }
    return [k for k in CREDENTIAL_KEYS if in_file.get(k) or at_start.get(k)]


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · Issuewright</title></head>"
        f'<body style="font-family:sans-serif;max-width:40em;margin:3em auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(document, status_code=status, media_type=MediaType.HTML, headers=_HEADERS)


def _text(message: str, status: int) -> Response[str]:
    return Response(message + "\n", status_code=status, media_type=MediaType.TEXT, headers=_HEADERS)


def _github_message(response: httpx.Response) -> str:
    try:
        message = str(response.json().get("message") or "")[:200]
    except (ValueError, AttributeError):
        return ""
    return f" ({html.escape(message)})" if message else ""


_NO_HOOK_NOTE = (
    "<p>GitHub sent no webhook secret: set one in the app's settings and as WEBHOOK_SECRET.</p>"
)


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'


def _confirm_form(action: str, hidden: dict[str, str], existing: list[str]) -> str:
    fields = "".join(_hidden(k, v) for k, v in hidden.items())
    return (
        f"<p>Credentials are already set: {html.escape(', '.join(existing))}. Registering "
        f"replaces them in <code>.env</code>, and the app they belong to stops working here.</p>"
        f'<form method="get" action="{html.escape(action)}">{fields}'
        '<label><input type="checkbox" name="force" value="1" required> '
        "Replace the existing credentials</label> <button type=submit>Continue</button></form>"
    )


def setup_routes(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    manifest_path: Path = MANIFEST_PATH,
    states: StateStore | None = None,
) -> list[Any]:
    """Route handlers for `/setup` and `/setup/callback`. Tests inject `transport` (an
    `httpx.MockTransport`) so the code exchange never reaches the network."""
    if settings.has_app_credentials:
        configured = (
            f"Issuewright is already configured as GitHub App {settings.app_id}; "
            "/setup is only served before the app is registered."
        )

        @get(["/setup", "/setup/callback"], media_type=MediaType.TEXT, include_in_schema=False)
        async def setup_not_served() -> Response[str]:
            return _text(configured, 404)

        return [setup_not_served]

    store = states or StateStore()
    lock = asyncio.Lock()  # one credential write at a time: check and write must not interleave
    web = settings.github_web_url.rstrip("/")
    try:
        template = yaml.safe_load(manifest_path.read_text())
        template_error = "" if isinstance(template, dict) else f"{manifest_path} is not a mapping"
    except (OSError, yaml.YAMLError) as exc:
        template, template_error = {}, f"cannot read {manifest_path} ({type(exc).__name__})"

    @get("/setup", include_in_schema=False)
    async def setup_page(request: Request[Any, Any, Any]) -> Response[str]:
        if template_error:
            return _text(f"/setup cannot build the app manifest: {template_error}", 500)
        org = request.query_params.get("org") or None
        if org is not None and not _ORG.fullmatch(org):
            return _text(f"{org[:60]!r} is not a GitHub organization name", 400)
        force = request.query_params.get("force") == "1"
        existing = existing_credentials(settings)
        if existing and not force:
            hidden = {"org": org} if org else {}
            return _page("Already registered?", _confirm_form("/setup", hidden, existing))
        base = settings.public_url or str(request.base_url)
        manifest = build_manifest(template, base)
        state = store.issue(org, force)
        target = f"/organizations/{quote(org)}/settings/apps/new" if org else "/settings/apps/new"
        action = f"{web}{target}?{urlencode({'state': state})}"
        owner = f"the organization {org}" if org else "your account"
        local = urlsplit(base).hostname in _LOCAL_HOSTS
        body = (
            f"<p>Registers Issuewright as a GitHub App owned by {html.escape(owner)}, with only "
            "the events and permissions it uses. GitHub lets you change its name first.</p>"
            + (_LOCAL_NOTE.format(html.escape(base)) if local else "")
            + f'<form method="post" action="{html.escape(action, quote=True)}">'
            f"{_hidden('manifest', json.dumps(manifest))}"
            "<button type=submit>Register the GitHub App</button></form>"
            "<p>For an organization, open <code>/setup?org=NAME</code>.</p>"
        )
        return _page("Register the GitHub App", body)

    @get("/setup/callback", include_in_schema=False)
    async def setup_callback(request: Request[Any, Any, Any]) -> Response[str]:
        code = request.query_params.get("code") or ""
        state = request.query_params.get("state") or ""
        if not state or not code:
            return _text("missing code or state: start again at /setup", 400)
        pending = store.get(state)
        if pending is None:
            return _text("unknown or expired state: start again at /setup", 400)
        if not _CODE.fullmatch(code):
            return _text("malformed code: start again at /setup", 400)
        async with lock:
            existing = existing_credentials(settings)
            if existing and not (pending.force or request.query_params.get("force") == "1"):
                log.warning("setup: refused to replace existing credentials %s", existing)
                # The code stays unspent, so confirming here (within the hour) still works.
                form = _confirm_form("/setup/callback", {"code": code, "state": state}, existing)
                return _page("Not replacing existing credentials", form, 409)
            return await _exchange(code, state)

    async def _exchange(code: str, state: str) -> Response[str]:
        url = f"{settings.github_api_url.rstrip('/')}/app-manifests/{code}/conversions"
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        try:
            async with httpx.AsyncClient(transport=transport, timeout=30.0) as client:
                response = await client.post(url, headers=headers)
        except httpx.HTTPError as exc:  # the state is kept: the code may still be good
            log.warning("setup: code exchange failed: %s", type(exc).__name__)
            return _text(f"could not reach GitHub ({type(exc).__name__}); reload to retry", 502)
        if response.status_code != 201:
            store.discard(state)  # the code is spent or expired: this state is done
            log.warning("setup: GitHub answered %d to the code exchange", response.status_code)
            said = _github_message(response)
            body = (
                f"<p>GitHub answered {response.status_code}{said} when asked for the app's "
                'credentials. A code lasts an hour and works once: <a href="/setup">start '
                "again at /setup</a>.</p>"
            )
            return _page("Registration did not complete", body, 502)
        try:
            app = response.json()
            values = {
                "APP_ID": str(int(app["id"])),
                "PRIVATE_KEY": str(app["pem"]),
                "WEBHOOK_SECRET": str(app.get("webhook_secret") or ""),
                "CLIENT_ID": str(app["client_id"]),
                "CLIENT_SECRET": str(app["client_secret"]),
                "APP_SLUG": str(app["slug"]),
            }
        except (ValueError, KeyError, TypeError):
            log.warning("setup: GitHub's answer to the code exchange lacks the app's credentials")
            return _text("GitHub's answer lacked the app's credentials; start again at /setup", 502)
        values = {k: v for k, v in values.items() if v}
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        note = f"GitHub App {values['APP_SLUG']} (id {values['APP_ID']}), written by /setup {stamp}"
        try:
            write_env(settings.env_file, values, note)
        except OSError as exc:
            log.warning("setup: cannot write %s: %s", settings.env_file, exc.strerror)
            return _text(f"cannot write {settings.env_file} ({exc.strerror}); fix and reload", 500)
        store.discard(state)
        log.info("setup: registered GitHub App %s (id %s)", values["APP_SLUG"], values["APP_ID"])
        html_url = str(app.get("html_url") or "")
        if not html_url.startswith(("https://", "http://")):  # never a javascript: link
            html_url = f"{web}/apps/{quote(values['APP_SLUG'])}"
        no_secret = "" if "WEBHOOK_SECRET" in values else _NO_HOOK_NOTE
        body = (
            f"<p>GitHub App <strong>{html.escape(str(app.get('name') or values['APP_SLUG']))}"
            f"</strong> (id {values['APP_ID']}) is registered. Its credentials are in "
            f"<code>{html.escape(str(settings.env_file))}</code> (mode 0600).</p>{no_secret}"
            "<p><strong>Restart the server</strong> so it picks them up (settings in the "
            "process environment take precedence over <code>.env</code>).</p>"
            f'<p><a href="{html.escape(html_url.rstrip("/") + "/installations/new", quote=True)}">'
            "Install the app on your repositories</a></p>"
        )
        return _page("GitHub App registered", body)

    return [setup_page, setup_callback]
