"""`/schema`: the OpenAPI document as one server-rendered HTML page, so it works offline.

Litestar's own schema pages (Redoc, Swagger UI, Elements, RapiDoc) load their scripts, styles
and fonts from a CDN and are blank without internet. This page is rendered here from the same
document, with no script and no asset from anywhere: each route, its parameters and every
answer it documents. The document itself is `/schema/openapi.json` (and `.yaml`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin

from bot.web.templating import render

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class RoutesPage(OpenAPIRenderPlugin):
    """Serves the routes page at `/schema` (and `/schema/routes`)."""

    def __init__(self) -> None:
        # No favicon: the base class's default one is fetched from a CDN.
        super().__init__(path=["/", "/routes"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        json_url = self.get_openapi_json_route(request)
        return render(
            "schema.html.j2",
            info=openapi_schema.get("info", {}),
            operations=operations(openapi_schema),
            json_url=json_url,
            yaml_url=json_url.removesuffix(".json") + ".yaml",
        ).encode()


def operations(openapi_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per (path, method), in path order, with its answers in status order."""
    found = []
    for path, item in sorted(openapi_schema.get("paths", {}).items()):
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.get("responses") or {}
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary") or "",
                    "description": operation.get("description") or "",
                    "parameters": operation.get("parameters") or [],
                    "responses": [
                        (code, answer.get("description", ""), sorted(answer.get("content") or {}))
                        for code, answer in sorted(responses.items())
                    ],
                }
            )
    return found


def openapi_config(title: str, version: str) -> OpenAPIConfig:
    """The app's OpenAPI configuration: the page above, the document as JSON and YAML."""
    return OpenAPIConfig(
        title=title,
        version=version,
        render_plugins=[RoutesPage(), JsonRenderPlugin(), YamlRenderPlugin()],
    )
