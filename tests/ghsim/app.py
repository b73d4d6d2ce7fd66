"""The simulator as a plain ASGI app: route, authenticate, validate, answer.

Every request body is checked against the operation's request schema and every JSON reply
against its response schema before it leaves; a mismatch is recorded on the simulator AND
raised, so the call in the bot fails loudly (`httpx.ASGITransport` re-raises it). Benchmarks
that make thousands of calls may build the simulator with `validate=False` to skip the checks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from . import (  # noqa: F401 (routes)
    oauth_web,
    routes_actions,
    routes_checks,
    routes_issues,
    routes_oauth,
    routes_pulls,
    routes_repos,
)
from .core import HTTPError, Reply, Request, router
from .openapi import SchemaViolation, Violation, openapi

if TYPE_CHECKING:
    from .simulator import GitHubSimulator


LOG_HOST = "pipelines.actions.example"


class SimulatorGap(AssertionError):
    """The bot called an endpoint the simulator does not implement."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    template: str
    query: dict[str, str]
    body: Any


class SimulatorApp:
    def __init__(self, sim: GitHubSimulator) -> None:
        self.sim = sim
        split = urlsplit(sim.api_url)
        self.host = split.netloc
        self.prefix = split.path.rstrip("/")
        web = urlsplit(sim.web_url)
        self.web_host, self.web_prefix = web.netloc, web.path.rstrip("/")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        host = dict(scope["headers"]).get(b"host", b"").decode()
        if host == LOG_HOST:  # where GitHub redirects a job-log download: plain text, no auth
            job_id = int(scope["path"].rsplit("/", 1)[-1])
            text = self.sim.job_logs.get(job_id)
            status, body = (200, text.encode()) if text is not None else (404, b"")
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        path = scope["path"]
        web_paths = (f"{self.web_prefix}/login/oauth/", f"{self.web_prefix}/favicon.ico")
        if host == self.web_host and path.startswith(web_paths):
            web = await oauth_web.handle(
                self.sim,
                scope["method"],
                path[len(self.web_prefix) :],
                scope.get("query_string", b"").decode(),
                {k.decode().lower(): v.decode() for k, v in scope["headers"]},
                b"".join(chunks),
            )
            if web is not None:
                headers = [(b"content-type", web.content_type.encode())]
                if web.location:
                    headers.append((b"location", web.location.encode()))
                await send(
                    {"type": "http.response.start", "status": web.status, "headers": headers}
                )
                await send({"type": "http.response.body", "body": web.body})
                return
        reply = await self.handle(scope, b"".join(chunks))
        headers = [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
        content = b"" if reply.body is None else json.dumps(reply.body).encode()
        if reply.body is not None:
            headers.append((b"content-type", b"application/json; charset=utf-8"))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        await self.sim.flush(raise_errors=False)

    def _fail(self, kind: str, operation: str, details: list[str], exc: type[AssertionError]):
        for detail in details:
            self.sim.violations.append(Violation(kind, operation, detail))
        raise exc(f"{kind} {operation} violates GitHub's API:\n  " + "\n  ".join(details))

    async def handle(self, scope: dict, raw_body: bytes) -> Reply:
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode()
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        operation = f"{method} {raw_path}"
        if headers.get("host") != self.host:
            self._fail(
                "request",
                operation,
                [f"sent to {headers.get('host')}, not the configured API host {self.host}"],
                SimulatorGap,
            )
        if not raw_path.startswith(self.prefix + "/"):
            self._fail("request", operation, [f"path outside {self.prefix}/"], SimulatorGap)
        matched = router.match(method, raw_path[len(self.prefix) :])
        if matched is None:
            self._fail("request", operation, ["no such route in the simulator"], SimulatorGap)
        assert matched is not None
        route, params = matched
        operation = f"{method} {route.template}"
        body = json.loads(raw_body) if raw_body else None
        query = dict(parse_qsl(scope.get("query_string", b"").decode()))
        self.sim.requests.append(RecordedRequest(method, raw_path, route.template, query, body))
        if method != "GET" and self.sim.validate:
            errors = openapi().check_request(method, route.template, body, present=bool(raw_body))
            if errors:
                self._fail("request", operation, errors, SchemaViolation)

        scheme = scope.get("scheme", "https")
        url = f"{scheme}://{self.host}{raw_path}"
        request = Request(self.sim, method, route.template, params, query, body, headers, url)
        try:
            reply = self.sim.take_rate_limit() or await self._authorized(route.auth, request)
            if reply is None:
                reply = await route.handler(request)
        except HTTPError as error:
            reply = Reply(error.status, error.body())

        if tamper := self.sim.tampers.pop((method, route.template), None):
            reply.body = tamper(reply.body)
        if self.sim.validate and (reply.body is not None or reply.status != 204):
            errors = openapi().check_response(method, route.template, reply.status, reply.body)
            if errors:
                self._fail("response", f"{operation} {reply.status}", errors, SchemaViolation)
        reply.headers = {**self.sim.rate_limit_headers(), **reply.headers}
        return reply

    async def _authorized(self, auth: str, request: Request) -> Reply | None:
        """None when the credentials fit the route; otherwise GitHub's 401."""
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if auth == "app":
            try:
                claims = jwt.decode(
                    credential,
                    self.sim.app.public_key_pem,
                    algorithms=["RS256"],
                    options={"require": ["iat", "exp", "iss"]},
                    leeway=60,
                )
            except jwt.PyJWTError as exc:
                raise HTTPError(401, f"A JSON web token could not be decoded ({exc})") from None
            if str(claims["iss"]) != str(self.sim.app.id) or claims["exp"] - time.time() > 660:
                raise HTTPError(401, "'Issuer' claim ('iss') must be the app id")
            return None
        if auth == "user":
            login = self.sim.user_tokens.get(credential)
            if scheme.lower() not in {"token", "bearer"} or login is None:
                raise HTTPError(401, "Bad credentials")
            request.user = self.sim.state.users[login]
            return None
        installation_id = self.sim.state.tokens.get(credential)
        if scheme.lower() not in {"token", "bearer"} or installation_id is None:
            raise HTTPError(401, "Bad credentials")
        request.installation = self.sim.state.installations[installation_id]
        return None
