"""`/schema` through the real app as `issuewright serve` composes it: a page that needs no
network (no script, no asset from another host, every reference served here) and an OpenAPI
document that lists every route and the webhook's real answers."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.jobs.dispatch import Router
from bot.web.setup import SetupGate, setup_routes
from tests.conftest import make_settings
from tests.web.page_refs import References, is_remote

WEBHOOK_ANSWERS = {"200", "202", "400", "401", "413", "503"}


def served_app(tmp_path: Path, url: str, **overrides: object) -> Litestar:
    settings = make_settings(tmp_path, url, **overrides)
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    routes = setup_routes(settings, gate=SetupGate("0" * 32), transport=transport)
    return create_app(settings, router=Router(), extra_routes=routes)


def app_paths(app: Litestar) -> set[str]:
    """Every path the app answers, but the schema's own pages (`{id:int}` written `{id}`, as
    OpenAPI writes a path parameter)."""
    return {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for route in app.routes
        if not route.path.startswith("/schema")
    }


async def test_the_schema_page_needs_no_network(tmp_path: Path, sqlite_url: str) -> None:
    async with AsyncTestClient(served_app(tmp_path, sqlite_url)) as client:
        page = await client.get("/schema")
        refs = References(page.text)
        local = [url for _, url in refs.found if not url.startswith("#")]
        answers = {url: (await client.get(url)).status_code for url in local}

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    assert [url for _, url in refs.found if is_remote(url)] == []
    assert "/schema/openapi.json" in local
    assert answers == dict.fromkeys(local, 200)
    # The page is the document: every route of the app is on it.
    for path in ("/webhooks/github", "/setup/callback", "/metrics", "/readyz"):
        assert f"</span> {path}</h2>" in page.text
    assert "<th>413</th>" in page.text


async def test_openapi_lists_every_route(tmp_path: Path, sqlite_url: str) -> None:
    app = served_app(tmp_path, sqlite_url)
    async with AsyncTestClient(app) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        yaml_doc = await client.get("/schema/openapi.yaml")

    paths = schema["paths"]
    assert set(paths) == app_paths(app)
    assert set(paths) >= {
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/webhooks/github",
        "/setup",
        "/setup/callback",
    }
    assert set(paths["/setup"]) == set(paths["/setup/callback"]) == {"get", "post"}
    # The forms answer with a page (200), not "201 Created".
    assert "200" in paths["/setup"]["post"]["responses"]
    assert "201" not in paths["/setup/callback"]["post"]["responses"]
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert yaml_doc.status_code == 200


async def test_openapi_documents_the_webhook_answers(tmp_path: Path, sqlite_url: str) -> None:
    async with AsyncTestClient(served_app(tmp_path, sqlite_url)) as client:
        schema = (await client.get("/schema/openapi.json")).json()

    answers = schema["paths"]["/webhooks/github"]["post"]["responses"]
    assert set(answers) == WEBHOOK_ANSWERS  # and so no "201"
    for code in ("200", "202"):
        ref = answers[code]["content"]["application/json"]["schema"]["$ref"]
        fields = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
        assert set(fields) == {"delivery", "status"}
    for code in WEBHOOK_ANSWERS - {"200", "202"}:
        ref = answers[code]["content"]["application/json"]["schema"]["$ref"]
        assert set(schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]) == {
            "error"
        }
    assert "signature" in answers["401"]["description"].lower()


async def test_a_configured_app_still_documents_its_setup_answer(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = served_app(tmp_path, sqlite_url, app_id=1, private_key="k")
    async with AsyncTestClient(app) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    assert set(schema["paths"]) == app_paths(app)
    assert {"/setup", "/setup/callback"} <= set(schema["paths"])
