"""`/setup`: register the GitHub App the Probot way, while the server has no credentials.

Only whoever reads the server's console may register (see `setup_gate`): `GET /setup` asks for
the one-time setup code, `POST /setup` checks it and answers with the form that posts the
manifest (app.yml + this server's URLs) to GitHub's manifest flow, setting a cookie that binds
the manifest `state` to this browser. GitHub redirects back to `/setup/callback?code=…&state=…`;
with the matching cookie the code is exchanged (`POST /app-manifests/{code}/conversions`) for
the app's id, key and secrets. They are written to `settings.env_file` (mode 0600) as APP_ID,
PRIVATE_KEY (the PEM on one double-quoted line, newlines as `\\n`, which python-dotenv and
`Settings.from_env` both read back), WEBHOOK_SECRET, CLIENT_ID, CLIENT_SECRET and APP_SLUG;
other lines of an existing file are kept, and setup closes in this process at once. Existing
credentials are replaced only with the replace box ticked and the setup code entered for that
very request. No secret is ever logged or shown. Once the app is configured at start, both
routes answer 404 with one line saying so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import yaml
from dotenv import dotenv_values
from litestar import HttpMethod, MediaType, Request, Response, get, post, route

from bot.settings import Settings
from bot.web import setup_pages as pages
from bot.web.envfile import CREDENTIAL_KEYS, write_env
from bot.web.setup_gate import COOKIE, STATE_TTL_SECONDS, SetupGate, StateStore, same_browser

__all__ = ["MANIFEST_PATH", "SetupGate", "StateStore", "setup_routes", "write_env"]

log = logging.getLogger(__name__)

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "app.yml"
FORM_MAX_BYTES = 16 * 1024  # the forms hold a code, an org name and a state: nothing large
# The forms' POST routes: an HTML page back (200, not Litestar's default 201), small bodies.
FORM: dict[str, Any] = {
    "status_code": 200,
    "media_type": MediaType.HTML,
    "request_max_body_size": FORM_MAX_BYTES,
}
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 (compared, not bound)
_NOT_THIS_BROWSER = (
    "this registration was not started in this browser (or its cookie expired): start again "
    "at /setup with the setup code, and finish in the same browser"
)


def build_manifest(template: dict[str, Any], public_url: str) -> dict[str, Any]:
    """app.yml plus this server's URLs. `callback_urls` is the dashboard's login callback
    (Login with GitHub); `setup_url` is left out and `request_oauth_on_install` off: the bot
    has no post-install page, and a login it did not start is refused."""
    base = public_url.rstrip("/")
    manifest = json.loads(json.dumps(template))  # a deep copy that is also proven JSON-safe
    manifest["url"] = base  # the homepage: `/` on this server says what the app is
    manifest.setdefault("hook_attributes", {})["url"] = f"{base}/webhooks/github"
    manifest["redirect_url"] = f"{base}/setup/callback"
    manifest["callback_urls"] = [f"{base}/dashboard/login/callback"]
    return manifest


def existing_credentials(settings: Settings) -> list[str]:
    """Credential names already set in the environment at start or in the .env file now (the
    file may have been written by another process since this one started)."""
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


def _not_served(settings: Settings) -> list[Any]:
    configured = (
        f"Issuewright is already configured as GitHub App {settings.app_id}; "
        "/setup is only served before the app is registered."
    )

    @route(
        ["/setup", "/setup/callback"],
        http_method=[HttpMethod.GET, HttpMethod.POST],
        media_type=MediaType.TEXT,
        summary="Setup is closed: the app is configured (404)",
    )
    async def setup_not_served() -> Response[str]:
        return pages.text(configured, 404)

    return [setup_not_served]


def setup_routes(
    settings: Settings,
    *,
    gate: SetupGate | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    manifest_path: Path = MANIFEST_PATH,
) -> list[Any]:
    """Route handlers for `/setup` and `/setup/callback`. The server passes a `gate` and
    announces its code at start; without one a gate is made and announced here. Tests inject
    `transport` (an `httpx.MockTransport`) so the code exchange never reaches the network."""
    if settings.has_app_credentials:
        return _not_served(settings)
    if gate is None:
        gate = SetupGate()
        gate.announce()
    store = gate.states
    lock = asyncio.Lock()  # one credential write at a time: check and write must not interleave
    web = settings.github_web_url.rstrip("/")
    try:
        template = yaml.safe_load(manifest_path.read_text())
        template_error = "" if isinstance(template, dict) else f"{manifest_path} is not a mapping"
    except (OSError, yaml.YAMLError) as exc:
        template, template_error = {}, f"cannot read {manifest_path} ({type(exc).__name__})"

    def closed() -> Response[str]:
        return pages.closed(str(gate.completed), str(settings.env_file))

    @get("/setup", media_type=MediaType.HTML, summary="Register the GitHub App: the setup code")
    async def setup_page(request: Request[Any, Any, Any]) -> Response[str]:
        if gate.closed:
            return closed()
        if template_error:
            return pages.text(f"/setup cannot build the app manifest: {template_error}", 500)
        org = request.query_params.get("org") or None
        if org is not None and not _ORG.fullmatch(org):
            return pages.text(f"{org[:60]!r} is not a GitHub organization name", 400)
        form = pages.code_form(org, existing_credentials(settings))
        return pages.page("Register the GitHub App", form)

    @post("/setup", summary="Check the setup code; the manifest form", **FORM)
    async def setup_unlock(request: Request[Any, Any, Any]) -> Response[str]:
        if gate.closed:
            return closed()
        if template_error:
            return pages.text(f"/setup cannot build the app manifest: {template_error}", 500)
        form = await request.form()
        org = str(form.get("org") or "").strip() or None
        if org is not None and not _ORG.fullmatch(org):
            return pages.text(f"{org[:60]!r} is not a GitHub organization name", 400)
        existing = existing_credentials(settings)
        if not gate.accepts(str(form.get("setup_code") or "")):
            note = "<p><strong>That is not the setup code.</strong></p>"
            return pages.page("Setup code needed", pages.code_form(org, existing, note), 403)
        force = form.get("force") == "1"
        if existing and not force:
            note = "<p><strong>Tick the box to replace them, and enter the code again.</strong></p>"
            return pages.page("Already registered?", pages.code_form(org, existing, note), 409)
        base = settings.public_url or str(request.base_url)
        state, browser = store.issue(org, force)
        target = f"/organizations/{quote(org)}/settings/apps/new" if org else "/settings/apps/new"
        action = f"{web}{target}?{urlencode({'state': state})}"
        owner = f"the organization {org}" if org else "your account"
        local = base if urlsplit(base).hostname in _LOCAL_HOSTS else ""
        body = pages.manifest_form(action, build_manifest(template, base), owner, local)
        response = pages.page("Register the GitHub App", body)
        response.set_cookie(
            COOKIE,
            browser,
            max_age=int(STATE_TTL_SECONDS),
            path="/setup",
            secure=base.startswith("https://"),
            httponly=True,
            samesite="lax",  # sent on GitHub's top-level redirect back, not on cross-site posts
        )
        return response

    def check_callback(
        request: Request[Any, Any, Any], code: str, state: str
    ) -> Response[str] | None:
        """The refusal for a callback that is not this browser's own registration, if any."""
        if not state or not code:
            return pages.text("missing code or state: start again at /setup", 400)
        pending = store.get(state)
        if pending is None:
            return pages.text("unknown or expired state: start again at /setup", 400)
        if not same_browser(pending, request.cookies.get(COOKIE)):
            log.warning("setup: refused a callback from a browser that did not start it")
            return pages.text(_NOT_THIS_BROWSER, 403)
        if not _CODE.fullmatch(code):
            return pages.text("malformed code: start again at /setup", 400)
        return None

    @get(
        "/setup/callback", media_type=MediaType.HTML, summary="GitHub's redirect: store credentials"
    )
    async def setup_callback(request: Request[Any, Any, Any]) -> Response[str]:
        if gate.closed:
            return closed()
        code = request.query_params.get("code") or ""
        state = request.query_params.get("state") or ""
        refusal = check_callback(request, code, state)
        if refusal is not None:
            return refusal
        async with lock:
            if gate.closed:
                return closed()
            existing = existing_credentials(settings)
            pending = store.get(state)
            if existing and not (pending and pending.force):
                log.warning("setup: refused to replace existing credentials %s", existing)
                # GitHub's code stays unspent, so confirming (within the hour) still works.
                form = pages.confirm_callback_form(code, state, existing)
                return pages.page("Not replacing existing credentials", form, 409)
            return await _exchange(code, state)

    @post("/setup/callback", summary="Confirm replacing existing credentials", **FORM)
    async def setup_callback_confirmed(request: Request[Any, Any, Any]) -> Response[str]:
        """Replace credentials that appeared after the registration started: the setup code
        must be entered again for this request, and the box ticked."""
        if gate.closed:
            return closed()
        form = await request.form()
        code, state = str(form.get("code") or ""), str(form.get("state") or "")
        refusal = check_callback(request, code, state)
        if refusal is not None:
            return refusal
        existing = existing_credentials(settings)
        if not gate.accepts(str(form.get("setup_code") or "")):
            note = "<p><strong>That is not the setup code.</strong></p>"
            body = note + pages.confirm_callback_form(code, state, existing)
            return pages.page("Setup code needed", body, 403)
        if form.get("force") != "1":
            form_again = pages.confirm_callback_form(code, state, existing)
            return pages.page("Not replacing existing credentials", form_again, 409)
        async with lock:
            if gate.closed:
                return closed()
            return await _exchange(code, state)

    async def _exchange(code: str, state: str) -> Response[str]:
        url = f"{settings.github_api_url.rstrip('/')}/app-manifests/{code}/conversions"
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        try:
            async with httpx.AsyncClient(transport=transport, timeout=30.0) as client:
                response = await client.post(url, headers=headers)
        except httpx.HTTPError as exc:  # the state is kept: the code may still be good
            log.warning("setup: code exchange failed: %s", type(exc).__name__)
            return pages.text(
                f"could not reach GitHub ({type(exc).__name__}); reload to retry", 502
            )
        if response.status_code != 201:
            store.discard(state)  # the code is spent or expired: this state is done
            log.warning("setup: GitHub answered %d to the code exchange", response.status_code)
            said = pages.github_message(response)
            body = (
                f"<p>GitHub answered {response.status_code}{said} when asked for the app's "
                'credentials. A code lasts an hour and works once: <a href="/setup">start '
                "again at /setup</a>.</p>"
            )
            return pages.page("Registration did not complete", body, 502)
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
            return pages.text(
                "GitHub's answer lacked the app's credentials; start again at /setup", 502
            )
        values = {k: v for k, v in values.items() if v}
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        what = f"GitHub App {values['APP_SLUG']} (id {values['APP_ID']})"
        try:
            write_env(settings.env_file, values, f"{what}, written by /setup {stamp}")
        except OSError as exc:
            log.warning("setup: cannot write %s: %s", settings.env_file, exc.strerror)
            return pages.text(
                f"cannot write {settings.env_file} ({exc.strerror}); fix and reload", 500
            )
        # Closed before anything else can run: no later callback, forced or not, replaces these.
        gate.close(f"{what} was registered {stamp}")
        log.warning("setup: registered %s; /setup is closed, restart to use the app", what)
        return pages.page(
            "GitHub App registered", pages.registered(app, values, web, settings.env_file)
        )

    return [setup_page, setup_unlock, setup_callback, setup_callback_confirmed]
