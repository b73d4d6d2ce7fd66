"""GitHub's REST OpenAPI description as a contract the simulator cannot drift from.

The spec (OpenAPI 3.0.3, 13 MB unpacked) is loaded once per process. Operation schemas are
converted to JSON Schema draft 4 on first use (`nullable` → a `null` alternative) and their
validators are cached per (operation, status), so validating every simulator response
costs a dictionary lookup plus the validation itself.

Two deliberate relaxations, both because GitHub's description is looser than its tooling:
- `oneOf` is checked as `anyOf`: several of GitHub's `oneOf`s are not mutually exclusive
  (a file and a symlink content object both match each other's schema), so a real,
  correct response would fail a strict `oneOf`.
- `format` is not checked (GitHub's `uri` fields hold templates such as `{/other_user}`).
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # tests/fixtures/
SPEC_PATH = FIXTURES / "github-openapi" / "api.github.com.json.gz"

# Status codes GitHub may answer on any operation, declared or not (rate limits, outages).
ALWAYS_ALLOWED_STATUSES = {401, 403, 429, 500, 502, 503}


class SchemaViolation(AssertionError):
    """A request or response that GitHub's OpenAPI description rejects."""


@dataclass(frozen=True)
class Violation:
    kind: str  # "request" | "response" | "webhook"
    operation: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.operation}: {self.detail}"


def convert(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema draft 4 (refs left in place)."""
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: convert(value)
        for key, value in node.items()
        if key not in {"nullable", "discriminator", "example", "examples", "xml", "externalDocs"}
    }
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    if node.get("nullable"):
        if "$ref" in out or "type" not in out:
            return {"anyOf": [{"type": "null"}, out]}
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


class OpenAPIIndex:
    """Operations, schemas and examples of the spec, with validators built on demand."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._schemas: dict[str, Any] = spec["components"]["schemas"]
        self._converted: dict[str, Any] = {}
        self._validators: dict[tuple[str, ...], Draft4Validator | None] = {}

    # ---------------------------------------------------------------- lookups
    def operation(self, method: str, template: str) -> dict[str, Any]:
        try:
            return self.spec["paths"][template][method.lower()]
        except KeyError:
            raise SchemaViolation(f"{method.upper()} {template} is not in GitHub's API") from None

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self._pointer(node["$ref"])
        return node

    def _pointer(self, ref: str) -> Any:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def example(self, name: str) -> Any:
        """A deep copy of `#/components/examples/<name>`'s value."""
        return copy.deepcopy(self.spec["components"]["examples"][name]["value"])

    def response_example(self, method: str, template: str, status: int) -> Any:
        """The first example of an operation's JSON response (for cassettes)."""
        content = self._json_content(self._response(method, template, status))
        if content is None:
            return None
        examples = content.get("examples") or {}
        for example in examples.values():
            value = self.resolve(example)["value"]
            if isinstance(value, dict) and "$ref" in value:  # a value that is itself a $ref
                value = self.resolve(value)["value"]
            return copy.deepcopy(value)
        return copy.deepcopy(content.get("example"))

    # ---------------------------------------------------------------- validation
    def check_response(self, method: str, template: str, status: int, body: Any) -> list[str]:
        op = self.operation(method, template)
        key = ("response", method.lower(), template, str(status))
        if key not in self._validators:
            response = self._response(method, template, status)
            if response is None and status not in ALWAYS_ALLOWED_STATUSES:
                declared = ", ".join(sorted(op["responses"]))
                return [f"status {status} is not declared (declared: {declared})"]
            content = self._json_content(response) if response else None
            schema = content.get("schema") if content else None
            self._validators[key] = self._compile(schema) if schema else None
        return self._errors(self._validators[key], body)

    def check_request(
        self, method: str, template: str, body: Any, *, present: bool = True
    ) -> list[str]:
        """Errors of a request body (`present=False`: the request had no body at all)."""
        op = self.operation(method, template)
        request_body = self.resolve(op.get("requestBody"))
        if not present:
            required = bool(request_body and request_body.get("required"))
            return ["the operation requires a request body, none was sent"] if required else []
        if request_body is None:
            return ["the operation takes no request body, one was sent"]
        key = ("request", method.lower(), template)
        if key not in self._validators:
            content = self._json_content(request_body) if request_body else None
            schema = content.get("schema") if content else None
            self._validators[key] = self._compile(schema) if schema else None
        return self._errors(self._validators[key], body)

    def _response(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        responses = self.operation(method, template)["responses"]
        found = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        return self.resolve(found) if found else None

    @staticmethod
    def _json_content(holder: dict[str, Any]) -> dict[str, Any] | None:
        content = holder.get("content") or {}
        return content.get("application/json") or next(
            (v for k, v in content.items() if k.endswith("json")), None
        )

    def _compile(self, schema: dict[str, Any]) -> Draft4Validator:
        root = convert(self.resolve(schema))
        names: set[str] = set()
        pending = [root]
        while pending:
            found: set[str] = set()
            _refs(pending.pop(), found)
            for ref in found:
                name = ref.rsplit("/", 1)[-1]
                if name in names:
                    continue
                if not ref.startswith("#/components/schemas/"):
                    raise SchemaViolation(f"unexpected $ref {ref} in GitHub's spec")
                names.add(name)
                if name not in self._converted:
                    self._converted[name] = convert(self._schemas[name])
                pending.append(self._converted[name])
        document = {**root, "components": {"schemas": {n: self._converted[n] for n in names}}}
        return Draft4Validator(document)

    @staticmethod
    def _errors(validator: Draft4Validator | None, body: Any) -> list[str]:
        if validator is None:
            return []
        errors = sorted(validator.iter_errors(body), key=lambda e: str(list(e.absolute_path)))
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors
        ]


@functools.cache
def openapi() -> OpenAPIIndex:
    """The process-wide index (the spec is read and parsed once)."""
    with gzip.open(SPEC_PATH, "rt", encoding="utf-8") as fh:
        return OpenAPIIndex(json.load(fh))
