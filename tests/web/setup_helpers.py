"""What the `/setup` tests share: the real app with only the setup routes, GitHub's code
exchange replayed from the OpenAPI description's own example (read from tests/fixtures/
at test time, never copied here), a form reader, and the two steps a browser takes to start."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.jobs.dispatch import Router
from bot.settings import Settings
from bot.web.setup import SetupGate, setup_routes
from tests.conftest import FIXTURES, make_settings

PUBLIC = "https://bot.example.com"
OPENAPI = FIXTURES / "github-openapi" / "api.github.com.json.gz"
CONVERSIONS = "/app-manifests/{code}/conversions"
CODE = "0123456789abcdef0123456789abcdef"  # the test's setup code, in the server's format


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
            self.forms[-1]["types"] = {}
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][found.get("name")] = found.get("value")
            self.forms[-1]["types"][found.get("name")] = found.get("type") or "text"


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


def client_for(
    settings: Settings, github: GitHub, gate: SetupGate | None = None
) -> AsyncTestClient:
    """The app as `issuewright serve` composes it: setup routes with a gate whose code is
    announced at start (here a known code)."""
    gate = gate or SetupGate(CODE)
    routes = setup_routes(settings, gate=gate, transport=httpx.MockTransport(github.handler))
    # An empty router: setup needs no event handlers, and this keeps it independent of them.
    app = create_app(settings, router=Router(), extra_routes=routes, on_startup=[gate.announce])
    # The browser is where PUBLIC_URL says (https), so the Secure cookie comes back to it.
    return AsyncTestClient(app, base_url=settings.public_url or "http://testserver.local")


async def start(
    client: AsyncTestClient,
    org: str | None = None,
    *,
    code: str = CODE,
    force: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Open /setup, enter the code (and tick the replace box) and return GitHub's form."""
    page = await client.get("/setup", params={"org": org} if org else None, headers=headers)
    assert page.status_code == 200, page.text
    (entry,) = Forms(page.text).forms
    assert (entry["method"], entry["action"]) == ("post", "/setup")
    assert entry["types"]["setup_code"] == "password"
    data = {"setup_code": code, "org": entry["inputs"].get("org") or ""}
    if force:
        data["force"] = "1"
    response = await client.post("/setup", data=data, headers=headers)
    assert response.status_code == 200, response.text
    (form,) = Forms(response.text).forms
    return form


def state_of(form: dict[str, Any]) -> str:
    return parse_qs(urlsplit(form["action"]).query)["state"][0]
