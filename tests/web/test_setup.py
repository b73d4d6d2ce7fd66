"""`/setup`: the manifest flow, through the real app, with GitHub's code exchange replayed from
the OpenAPI description's own example (read from ../shared at test time, never copied here)."""

from __future__ import annotations

import gzip
import json
import logging
import stat
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from dotenv import dotenv_values
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.dispatch import Router
from bot.settings import Settings
from bot.web.setup import MANIFEST_PATH, StateStore, setup_routes, write_env
from tests.conftest import FIXTURES, ROOT, make_settings

PUBLIC = "https://bot.example.com"
OPENAPI = FIXTURES / "github-openapi" / "api.github.com.json.gz"
CONVERSIONS = "/app-manifests/{code}/conversions"


def conversion_example() -> dict[str, Any]:
    """The 201 example of `POST /app-manifests/{code}/conversions`, following its `$ref`."""
    spec = json.loads(gzip.decompress(OPENAPI.read_bytes()))
    content = spec["paths"][CONVERSIONS]["post"]["responses"]["201"]["content"]
    example = next(iter(content["application/json"]["examples"].values()))
    if "$ref" in example:
        example = spec["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
    return example["value"]


EXAMPLE = conversion_example()
SECRETS = [EXAMPLE["pem"], EXAMPLE["webhook_secret"], EXAMPLE["client_secret"]]


class Forms(HTMLParser):
    """Every form on a page: its method, action and input fields."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"method": found.get("method"), "action": found["action"]})
            self.forms[-1]["inputs"] = {}
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][found.get("name")] = found.get("value")


class GitHub:
    """A stand-in for the code exchange: records requests, answers with `reply`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.reply: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(
            201, json=EXAMPLE
        )

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)


def settings_for(tmp_path: Path, sqlite_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"webhook_secret": None, "public_url": PUBLIC, **overrides}
    return make_settings(tmp_path, sqlite_url, **values)


def client_for(settings: Settings, github: GitHub) -> AsyncTestClient:
    routes = setup_routes(settings, transport=httpx.MockTransport(github.handler))
    # An empty router: setup needs no event handlers, and this keeps it independent of them.
    return AsyncTestClient(create_app(settings, router=Router(), extra_routes=routes))


async def start(client: AsyncTestClient, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/setup{query}")
    assert response.status_code == 200, response.text
    (form,) = Forms(response.text).forms
    return form


def state_of(form: dict[str, Any]) -> str:
    return parse_qs(urlsplit(form["action"]).query)["state"][0]


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
    assert manifest["url"] == PUBLIC
    assert github.requests == []


async def test_each_view_gets_its_own_state_and_org_variant(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = settings_for(tmp_path, sqlite_url, github_web_url="https://ghe.example.com")
    async with client_for(settings, GitHub()) as client:
        first, second = await start(client), await start(client)
        org = await start(client, "?org=octo-org")
        bad = await client.get("/setup?org=../evil")
    assert state_of(first) != state_of(second) and len(state_of(first)) >= 32
    assert org["action"].startswith(
        "https://ghe.example.com/organizations/octo-org/settings/apps/new?state="
    )
    assert bad.status_code == 400 and "organization" in bad.text


async def test_without_public_url_the_request_url_is_used_with_a_warning(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with client_for(settings_for(tmp_path, sqlite_url, public_url=None), GitHub()) as c:
        response = await c.get("/setup", headers={"Host": "localhost:3000"})
    manifest = json.loads(Forms(response.text).forms[0]["inputs"]["manifest"])
    assert manifest["hook_attributes"]["url"] == "http://localhost:3000/webhooks/github"
    assert "cannot deliver webhooks" in response.text and "PUBLIC_URL" in response.text


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


async def test_a_second_exchange_refuses_to_replace_credentials(
    tmp_path: Path, sqlite_url: str
) -> None:
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        first, second = state_of(await start(client)), state_of(await start(client))
        assert (await client.get(f"/setup/callback?code=c1&state={first}")).status_code == 200
        before = (tmp_path / ".env").read_text()
        refused = await client.get(f"/setup/callback?code=c2&state={second}")
        assert refused.status_code == 409 and "already set" in refused.text
        assert len(github.requests) == 1 and (tmp_path / ".env").read_text() == before
        # The page now asks for confirmation instead of offering GitHub's form.
        page = await client.get("/setup")
        (confirm,) = Forms(page.text).forms
        assert confirm["action"] == "/setup" and "force" in confirm["inputs"]
        # Confirming on the refusal page replaces them, with the unspent code.
        (again,) = Forms(refused.text).forms
        assert again["action"] == "/setup/callback" and again["inputs"]["state"] == second
        github.reply = lambda r: httpx.Response(201, json={**EXAMPLE, "id": 99})
        query = f"code={again['inputs']['code']}&state={second}&force=1"
        replaced = await client.get(f"/setup/callback?{query}")
    assert replaced.status_code == 200, replaced.text
    text = (tmp_path / ".env").read_text()
    assert dotenv_values(tmp_path / ".env")["APP_ID"] == "99" and text.count("APP_ID=") == 1
    assert text.count("BEGIN RSA PRIVATE KEY") == 1


async def test_credentials_in_the_environment_need_confirmation(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = settings_for(tmp_path, sqlite_url, webhook_secret="set-in-environment")
    github = GitHub()
    async with client_for(settings, github) as client:
        page = await client.get("/setup?org=octo-org")
        (confirm,) = Forms(page.text).forms
        assert "WEBHOOK_SECRET" in page.text and "set-in-environment" not in page.text
        assert confirm["inputs"] == {"org": "octo-org", "force": "1"}
        form = await start(client, "?org=octo-org&force=1")  # what ticking the box submits
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
    assert reused.status_code == 400 and "unknown or expired state" in reused.text


def test_states_expire() -> None:
    now = [1000.0]
    store = StateStore(ttl=60, clock=lambda: now[0])
    state = store.issue(None, False)
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
    for response in (page, callback):
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
