"""Request / reply types and the route table the simulator's handlers register in."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

if TYPE_CHECKING:
    from .simulator import GitHubSimulator
    from .state import Installation, Issue, Repo, User

DOCS = "https://docs.github.com/rest"


class HTTPError(Exception):
    """Answer with GitHub's error body (`basic-error` / `validation-error`)."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": self.message,
            "documentation_url": DOCS,
            "status": str(self.status),
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


@dataclass
class Reply:
    status: int
    body: Any = None  # None: no body (204)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    sim: GitHubSimulator
    method: str
    template: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    url: str  # absolute URL of this request, without the query
    installation: Installation | None = None
    user: User | None = None  # the person a user token (OAuth web flow) belongs to

    def param_int(self, name: str) -> int:
        return int(self.params[name])

    def repo(self) -> Repo:
        repo = self.sim.state.repo(self.params["owner"], self.params["repo"])
        # GitHub answers 404, not 403, for a repository the token cannot see.
        if repo is None or self.installation is None or not self.installation.can_access(repo):
            raise HTTPError(404, "Not Found")
        return repo

    def issue(self, repo: Repo, name: str = "issue_number", *, pull: bool = False) -> Issue:
        issue = repo.issues.get(self.param_int(name))
        if issue is None or (pull and issue.pull is None):
            raise HTTPError(404, "Not Found")
        return issue

    def field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def paginate(self, items: list[Any], status: int = 200) -> Reply:
        """Page a list the way GitHub does (`per_page` ≤ 100, `page`, `Link` header)."""
        per_page = min(int(self.query.get("per_page", 30)), 100)
        page = max(int(self.query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        rels = [("next", page + 1), ("last", last)] if page < last else []
        if page > 1:
            rels += [("prev", page - 1), ("first", 1)]
        links = []
        for rel, number in rels:
            query = urlencode({**self.query, "page": number, "per_page": per_page})
            links.append(f'<{self.url}?{query}>; rel="{rel}"')
        headers = {"link": ", ".join(links)} if last > 1 else {}
        return Reply(status, chunk, headers)


Handler = Callable[[Request], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: str  # "app" (JWT) | "installation" (installation token) | "user" (user token)


# Path parameters that may contain slashes.
_GREEDY = {"path", "ref"}
_NUMERIC = {"issue_number", "pull_number", "comment_id", "check_run_id", "installation_id"}


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, template: str, auth: str = "installation"):
        def pattern_for(name: str) -> str:
            if name in _GREEDY:
                return f"(?P<{name}>.+)"
            if name in _NUMERIC:
                return f"(?P<{name}>[0-9]+)"
            return f"(?P<{name}>[^/]+)"

        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(
            pattern_for(part) if i % 2 else re.escape(part) for i, part in enumerate(parts)
        )

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(method.upper(), template, re.compile(f"^{regex}$"), handler, auth)
            )
            return handler

        return register

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(raw_path)
            if found:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


router = Router()
