"""`/setup`: the manifest flow, through the real app, with GitHub's code exchange replayed from
the OpenAPI description's own example (tests/web/setup_helpers.py). Who may use it (the setup
code, the cookie, closing) is tested in test_setup_gate.py."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from dotenv import dotenv_values

from bot.settings import Settings
from bot.web.setup import MANIFEST_PATH, StateStore, write_env
from tests.conftest import ROOT
from tests.web.setup_helpers import (
    CODE,
    EXAMPLE,
    PUBLIC,
    SECRETS,
    Forms,
    GitHub,
    client_for,
    settings_for,
    start,
    state_of,
)


def test_repository_manifest_is_the_one_served() -> None:
    assert MANIFEST_PATH == ROOT / "app.yml"


async def test_setup_form_posts_the_full_manifest(tmp_path: Path, sqlite_url: str) -> None:
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        form = await start(client)
    assert form["method"] == "post"
    assert form["action"].startswith("https://github.com/settings/apps/new?state=")
    manifest = json.loads(form["inputs"]["manifest"])
    expected = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["default_events"] == expected["default_events"]
    assert manifest["default_permissions"] == expected["default_permissions"]
    assert manifest["name"] == expected["name"] and manifest["public"] is False
    assert manifest["hook_attributes"] == {"url": f"{PUBLIC}/webhooks/github", "active": True}
    assert manifest["redirect_url"] == f"{PUBLIC}/setup/callback"
    assert manifest["callback_urls"] == [f"{PUBLIC}/dashboard/login/callback"]
    assert "request_oauth_on_install" not in manifest  # a login the dashboard did not start fails
    assert manifest["url"] == PUBLIC
    assert github.requests == []
    assert CODE not in json.dumps(form)  # the setup code is never echoed into a page


async def test_each_view_gets_its_own_state_and_org_variant(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = settings_for(tmp_path, sqlite_url, github_web_url="https://ghe.example.com")
    async with client_for(settings, GitHub()) as client:
        first, second = await start(client), await start(client)
        org = await start(client, "octo-org")
        bad = await client.get("/setup?org=../evil")
        posted = await client.post("/setup", data={"setup_code": CODE, "org": "../evil"})
    assert state_of(first) != state_of(second) and len(state_of(first)) >= 32
    assert org["action"].startswith(
        "https://ghe.example.com/organizations/octo-org/settings/apps/new?state="
    )
    assert bad.status_code == 400 and "organization" in bad.text
    assert posted.status_code == 400 and "organization" in posted.text


async def test_without_public_url_the_request_url_is_used_with_a_warning(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with client_for(settings_for(tmp_path, sqlite_url, public_url=None), GitHub()) as c:
        form = await start(c, headers={"Host": "localhost:3000"})
        response = await c.post(
            "/setup", data={"setup_code": CODE}, headers={"Host": "localhost:3000"}
        )
    manifest = json.loads(form["inputs"]["manifest"])
    assert manifest["hook_attributes"]["url"] == "http://localhost:3000/webhooks/github"
    assert "cannot deliver webhooks" in response.text and "PUBLIC_URL" in response.text
    # Plain http: the cookie may not be Secure, or the browser would never send it back.
    assert "secure" not in response.headers["set-cookie"].lower()


async def test_callback_exchanges_the_code_and_writes_env_0600(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = tmp_path / ".env"
    env.write_text("# mine\nDATABASE_URL=sqlite+aiosqlite:///x.db\nLLM_MODEL=gpt\n")
    env.chmod(0o644)
    github = GitHub()
    caplog.set_level(logging.DEBUG)
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        response = await client.get(f"/setup/callback?code=abc123&state={state}")
    assert response.status_code == 200, response.text
    (request,) = github.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.github.com/app-manifests/abc123/conversions"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    values = dotenv_values(env)
    assert values["APP_ID"] == str(EXAMPLE["id"]) and values["PRIVATE_KEY"] == EXAMPLE["pem"]
    assert values["WEBHOOK_SECRET"] == EXAMPLE["webhook_secret"]
    assert values["CLIENT_ID"] == EXAMPLE["client_id"]
    assert values["CLIENT_SECRET"] == EXAMPLE["client_secret"]
    assert values["APP_SLUG"] == EXAMPLE["slug"]
    assert values["DATABASE_URL"] == "sqlite+aiosqlite:///x.db" and values["LLM_MODEL"] == "gpt"
    assert env.read_text().startswith("# mine\n")
    # One line per value: the PEM is escaped, and the app's own loader reads it back whole.
    assert sum(line.startswith("PRIVATE_KEY=") for line in env.read_text().splitlines()) == 1
    loaded = Settings.from_env(environ={}, env_file=env)
    assert loaded.has_app_credentials and loaded.private_key == EXAMPLE["pem"]
    assert "https://github.com/apps/octoapp/installations/new" in response.text
    assert "Restart the server" in response.text
    assert response.headers["cache-control"] == "no-store"
    for secret in SECRETS:
        assert secret not in response.text and secret not in caplog.text
    assert "MIIE" not in response.text and "MIIE" not in caplog.text


async def test_a_second_exchange_cannot_replace_credentials(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Two registrations started (two tabs, or two people with the code): the first to come
    back wins and closes setup; the other, even with `?force=1`, writes nothing."""
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        first = state_of(await start(client))
        first_cookie = client.cookies["issuewright_setup"]
        second = state_of(await start(client))
        assert (await client.get(f"/setup/callback?code=c2&state={second}")).status_code == 200
        before = (tmp_path / ".env").read_text()
        client.cookies.set("issuewright_setup", first_cookie, domain="bot.example.com")
        refused = await client.get(f"/setup/callback?code=c1&state={first}&force=1")
        assert refused.status_code == 410 and "Setup is complete" in refused.text
        confirmed = await client.post(
            "/setup/callback",
            data={"code": "c1", "state": first, "setup_code": CODE, "force": "1"},
        )
        assert confirmed.status_code == 410
    assert len(github.requests) == 1 and (tmp_path / ".env").read_text() == before
    text = (tmp_path / ".env").read_text()
    assert text.count("APP_ID=") == 1 and text.count("BEGIN RSA PRIVATE KEY") == 1


async def test_credentials_in_the_environment_need_confirmation(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = settings_for(tmp_path, sqlite_url, webhook_secret="set-in-environment")
    github = GitHub()
    async with client_for(settings, github) as client:
        page = await client.get("/setup?org=octo-org")
        (confirm,) = Forms(page.text).forms
        assert "WEBHOOK_SECRET" in page.text and "set-in-environment" not in page.text
        assert confirm["inputs"] == {"setup_code": None, "force": "1", "org": "octo-org"}
        unticked = await client.post("/setup", data={"setup_code": CODE, "org": "octo-org"})
        assert unticked.status_code == 409 and "set-cookie" not in unticked.headers
        assert "github.com" not in unticked.text
        form = await start(client, "octo-org", force=True)  # what ticking the box submits
        response = await client.get(f"/setup/callback?code=c1&state={state_of(form)}")
    assert response.status_code == 200 and len(github.requests) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "missing code or state"),
        ("?code=abc", "missing code or state"),
        ("?state=nope", "missing code or state"),
        ("?code=abc&state=nope", "unknown or expired state"),
    ],
)
async def test_bad_state_is_400(tmp_path: Path, sqlite_url: str, query: str, message: str) -> None:
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        await start(client)
        response = await client.get(f"/setup/callback{query}")
    assert response.status_code == 400 and message in response.text and "/setup" in response.text
    assert github.requests == [] and not (tmp_path / ".env").exists()


async def test_a_state_works_once_and_a_bad_code_is_refused(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with client_for(settings_for(tmp_path, sqlite_url), GitHub()) as client:
        state = state_of(await start(client))
        bad = await client.get(f"/setup/callback?code=a/../b&state={state}")
        assert bad.status_code == 400 and "malformed code" in bad.text
        assert (await client.get(f"/setup/callback?code=c&state={state}")).status_code == 200
        reused = await client.get(f"/setup/callback?code=c&state={state}")
    # Spent, and more: setup closed with the write, so nothing is accepted any more.
    assert reused.status_code == 410 and "Setup is complete" in reused.text


def test_states_expire() -> None:
    now = [1000.0]
    store = StateStore(ttl=60, clock=lambda: now[0])
    state, _cookie = store.issue(None, False)
    assert store.get(state) is not None
    now[0] += 61
    assert store.get(state) is None


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, {"message": "Not Found"}), (422, {"message": "Validation Failed"}), (500, "oops")],
)
async def test_github_refusing_the_code_says_start_again(
    tmp_path: Path, sqlite_url: str, status: int, body: Any
) -> None:
    github = GitHub()
    github.reply = lambda r: httpx.Response(status, json=body)
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        response = await client.get(f"/setup/callback?code=old&state={state}")
        reused = await client.get(f"/setup/callback?code=old&state={state}")
    assert response.status_code == 502 and f"GitHub answered {status}" in response.text
    assert 'href="/setup"' in response.text and "Traceback" not in response.text
    if isinstance(body, dict):
        assert body["message"] in response.text
    assert reused.status_code == 400 and not (tmp_path / ".env").exists()


async def test_network_error_is_one_line_502_and_retry_works(
    tmp_path: Path, sqlite_url: str
) -> None:
    github = GitHub()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    github.reply = down
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        response = await client.get(f"/setup/callback?code=c&state={state}")
        assert response.status_code == 502 and "could not reach GitHub" in response.text
        assert response.text.count("\n") == 1 and not (tmp_path / ".env").exists()
        github.reply = lambda r: httpx.Response(201, json=EXAMPLE)
        retried = await client.get(f"/setup/callback?code=c&state={state}")
    assert retried.status_code == 200


async def test_an_answer_without_credentials_is_502(tmp_path: Path, sqlite_url: str) -> None:
    github = GitHub()
    github.reply = lambda r: httpx.Response(201, json={"id": 1, "slug": "x"})
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        response = await client.get(f"/setup/callback?code=c&state={state}")
    assert response.status_code == 502 and "lacked the app's credentials" in response.text
    assert not (tmp_path / ".env").exists()


async def test_configured_app_does_not_serve_setup(tmp_path: Path, sqlite_url: str) -> None:
    settings = settings_for(tmp_path, sqlite_url, app_id="42", private_key="-----BEGIN x")
    github = GitHub()
    async with client_for(settings, github) as client:
        page = await client.get("/setup")
        callback = await client.get("/setup/callback?code=c&state=s")
        posted = await client.post("/setup", data={"setup_code": CODE})
    for response in (page, callback, posted):
        assert response.status_code == 404
        assert response.text == (
            "Issuewright is already configured as GitHub App 42; "
            "/setup is only served before the app is registered.\n"
        )
    assert github.requests == []


def test_write_env_replaces_multiline_values_and_keeps_the_rest(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        'A=1\nPRIVATE_KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\n'
        "export APP_ID=7\nPRIVATE_KEY_PATH=old.pem\nB='x y'\n"
    )
    write_env(env, {"APP_ID": "8", "PRIVATE_KEY": 'p "q"\nr\\s'}, "note")
    values = dotenv_values(env)
    assert values == {"A": "1", "B": "x y", "APP_ID": "8", "PRIVATE_KEY": 'p "q"\nr\\s'}
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temp file left behind
