"""What `/setup` shows: small HTML pages and one-line text answers, no secret in any of them.

The setup code is never echoed back into a page: every form that needs it asks for it again.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from litestar import MediaType, Response

HEADERS = {
    # The callback URL carries the code: keep it out of caches and of the Referer sent to GitHub.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOCAL_NOTE = (
    "<p><strong>GitHub cannot deliver webhooks to {}.</strong> Set PUBLIC_URL to an address "
    "GitHub reaches (a tunnel works for trying it out) and reload, or change the webhook URL "
    "in the app's settings later.</p>"
)
NO_HOOK_NOTE = (
    "<p>GitHub sent no webhook secret: set one in the app's settings and as WEBHOOK_SECRET.</p>"
)
WHERE_THE_CODE_IS = (
    "The server printed its one-time setup code on its console (standard error, the log line "
    "at WARNING that starts with <q>setup is open</q>) when it started."
)


def page(title: str, body: str, status: int = 200) -> Response[str]:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · Issuewright</title></head>"
        f'<body style="font-family:sans-serif;max-width:40em;margin:3em auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(document, status_code=status, media_type=MediaType.HTML, headers=HEADERS)


def text(message: str, status: int) -> Response[str]:
    return Response(message + "\n", status_code=status, media_type=MediaType.TEXT, headers=HEADERS)


def closed(completed: str, env_file: str) -> Response[str]:
    """Setup finished in this process: say so, and how a new registration becomes possible."""
    return text(
        f"Setup is complete: {completed}; its credentials are in {env_file}. Restart the server "
        "to use them. /setup is closed until then; to register another App, remove APP_ID and "
        "PRIVATE_KEY from that file and restart: the server prints a new setup code on its "
        "console.",
        410,
    )


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'


_CODE_FIELD = (
    '<p><label>Setup code <input type="password" name="setup_code" required '
    'autocomplete="off" spellcheck="false" size="36"></label></p>'
)


def _replace_box(existing: list[str]) -> str:
    return (
        f"<p>Credentials are already set: {html.escape(', '.join(existing))}. Registering "
        "replaces them in <code>.env</code>, and the app they belong to stops working here.</p>"
        '<p><label><input type="checkbox" name="force" value="1" required> '
        "Replace the existing credentials</label></p>"
    )


def code_form(org: str | None, existing: list[str], note: str = "") -> str:
    """The first step: the setup code (and, over existing credentials, the replace box)."""
    return (
        note
        + f"<p>{WHERE_THE_CODE_IS} Enter it to register Issuewright as a GitHub App.</p>"
        + '<form method="post" action="/setup">'
        + (_replace_box(existing) if existing else "")
        + _CODE_FIELD
        + '<p><label>Organization (empty: your account) <input name="org" '
        + f'value="{html.escape(org or "", quote=True)}"></label></p>'
        + "<button type=submit>Continue</button></form>"
    )


def confirm_callback_form(code: str, state: str, existing: list[str]) -> str:
    """GitHub sent us back over credentials that appeared meanwhile: replacing them takes the
    setup code, entered again, and the box ticked. GitHub's code stays unspent until then."""
    return (
        f"<p>{WHERE_THE_CODE_IS}</p>"
        + '<form method="post" action="/setup/callback">'
        + _replace_box(existing)
        + hidden("code", code)
        + hidden("state", state)
        + _CODE_FIELD
        + "<button type=submit>Replace</button></form>"
    )


def manifest_form(action: str, manifest: dict[str, Any], owner: str, local_base: str) -> str:
    """The second step: the form that posts the manifest to GitHub."""
    return (
        f"<p>Registers Issuewright as a GitHub App owned by {html.escape(owner)}, with only "
        "the events and permissions it uses. GitHub lets you change its name first.</p>"
        + (LOCAL_NOTE.format(html.escape(local_base)) if local_base else "")
        + f'<form method="post" action="{html.escape(action, quote=True)}">'
        f"{hidden('manifest', json.dumps(manifest))}"
        "<button type=submit>Register the GitHub App</button></form>"
        "<p>Finish in this browser: GitHub sends you back here, and only the browser that "
        "started a registration may complete it.</p>"
    )


def github_message(response: httpx.Response) -> str:
    try:
        message = str(response.json().get("message") or "")[:200]
    except (ValueError, AttributeError):
        return ""
    return f" ({html.escape(message)})" if message else ""


def registered(app: dict[str, Any], values: dict[str, str], web: str, env_file: Path) -> str:
    """The page after the credentials are written: where they are, restart, install."""
    html_url = str(app.get("html_url") or "")
    if not html_url.startswith(("https://", "http://")):  # never a javascript: link
        html_url = f"{web}/apps/{quote(values['APP_SLUG'])}"
    no_secret = "" if "WEBHOOK_SECRET" in values else NO_HOOK_NOTE
    install = html.escape(html_url.rstrip("/") + "/installations/new", quote=True)
    return (
        f"<p>GitHub App <strong>{html.escape(str(app.get('name') or values['APP_SLUG']))}"
        f"</strong> (id {values['APP_ID']}) is registered. Its credentials are in "
        f"<code>{html.escape(str(env_file))}</code> (mode 0600), and /setup is now closed.</p>"
        f"{no_secret}"
        "<p><strong>Restart the server</strong> so it picks them up (settings in the "
        "process environment take precedence over <code>.env</code>).</p>"
        f'<p><a href="{install}">Install the app on your repositories</a></p>'
    )
