"""GitHub access: the githubkit App client, installation clients, and thin typed wrappers.

githubkit owns authentication (JWT, installation tokens, their caching) and retries (server
errors; rate limits only when the wait is short). Nothing here retries a second time. What
comes back is read leniently into small dataclasses: githubkit's strict models reject real
payloads, so responses are read with `.json()`, never `.parsed_data`.
"""

from __future__ import annotations

import base64
import logging
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.retry import RETRY_SERVER_ERROR, RetryChainDecision, RetryOption

from bot.settings import Settings

log = logging.getLogger(__name__)
Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]
ROLES = ("admin", "maintain", "write", "triage", "read", "none")


class GitHubError(Exception):
    """A GitHub call failed with an HTTP error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message


class RateLimited(GitHubError):
    """A call was refused for rate limiting; retry after `reset_at` (UTC)."""

    def __init__(self, reset_at: datetime) -> None:
        self.reset_at = reset_at
        super().__init__(403, f"GitHub rate limit: paused until {reset_at:%H:%M} UTC")
        self.args = (self.message,)

    def __str__(self) -> str:
        return self.message


class RateLimitMonitor:
    """httpx response hook: logs `x-ratelimit-remaining` and keeps the last value."""

    def __init__(self, warn_below: int = 200) -> None:
        self.warn_below = warn_below
        self.remaining: int | None = None
        self.reset_at: datetime | None = None

    async def __call__(self, response: httpx.Response) -> None:
        raw = response.headers.get("x-ratelimit-remaining")
        if raw is None or not raw.isdigit():
            return
        self.remaining = int(raw)
        reset = response.headers.get("x-ratelimit-reset", "")
        self.reset_at = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
        level = logging.WARNING if self.remaining < self.warn_below else logging.DEBUG
        log.log(level, "GitHub rate limit remaining: %s", self.remaining)


class RetryShortRateLimit:
    """Let githubkit retry a rate-limited call once, only when the wait is short; a longer
    limit surfaces at once (as `RateLimited`) so the job is rescheduled, not left hanging."""

    def __init__(self, max_wait: timedelta) -> None:
        self.max_wait = max_wait

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count < 1 and isinstance(exc, RateLimitExceeded):
            if exc.retry_after <= self.max_wait:
                # githubkit sleeps 60 s when handed a zero wait (`retry_after or 60`).
                return RetryOption(True, max(exc.retry_after, timedelta(milliseconds=1)))
        return RetryOption(False)


class _SharedTransport(httpx.AsyncBaseTransport):
    """One connection pool for every client of the process; githubkit closes its httpx client
    after each call, which must not close the pool."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:  # closed by `close_app_github` at shutdown
        return None


def _pooled_transport() -> httpx.AsyncBaseTransport | None:
    # httpx ignores HTTPS_PROXY / NO_PROXY once a transport is given: behind a proxy, leave
    # the clients to httpx (one connection per call) rather than bypass the proxy.
    proxies = urllib.request.getproxies()
    return None if ("https" in proxies or "all" in proxies) else _SharedTransport()


def make_app_github(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    cache_strategy: BaseCacheStrategy | None = None,
    max_rate_limit_wait: timedelta = timedelta(seconds=30),
) -> GitHub[AppAuthStrategy]:
    """The App client; build it once per process and derive installation clients from it.
    Tests pass `transport` and/or `cache_strategy`: then githubkit's process-wide token cache
    and HTTP cache are not used (a fresh `MemCacheStrategy`, `http_cache=False`)."""
    if not settings.app_id or not settings.private_key:
        raise ValueError("GitHub App credentials missing: set APP_ID and PRIVATE_KEY")
    isolated = transport is not None or cache_strategy is not None
    return GitHub(
        AppAuthStrategy(settings.app_id, settings.private_key),
        base_url=settings.github_api_url,
        user_agent=f"{settings.app_slug} (githubkit)",
        async_transport=transport or _pooled_transport(),
        cache_strategy=(cache_strategy or MemCacheStrategy()) if isolated else None,
        http_cache=not isolated,
        auto_retry=RetryChainDecision(RetryShortRateLimit(max_rate_limit_wait), RETRY_SERVER_ERROR),
        async_event_hooks={"response": [RateLimitMonitor()]},
    )


async def close_app_github(app_github: GitHub[Any]) -> None:
    transport = app_github.config.async_transport
    if isinstance(transport, _SharedTransport):
        await transport.inner.aclose()


def rate_limit_monitor(gh: GitHub[Any]) -> RateLimitMonitor | None:
    """The monitor shared by an App client and its installation clients (for metrics)."""
    hooks = (gh.config.async_event_hooks or {}).get("response", [])
    return next((h for h in hooks if isinstance(h, RateLimitMonitor)), None)


def installation_client(app_github: GitHub[AppAuthStrategy], installation_id: int) -> GitHub:
    """A client acting as one installation (same config, token cached by githubkit)."""
    return app_github.with_auth(app_github.auth.as_installation(installation_id))


@dataclass(frozen=True)
class InstallationToken:
    token: str = ""
    expires_at: str = ""

    def __repr__(self) -> str:  # never log the token
        return f"InstallationToken(expires_at={self.expires_at!r})"


async def create_installation_token(
    app_github: GitHub[AppAuthStrategy], installation_id: int
) -> InstallationToken:
    """A fresh token for git over HTTPS (`x-access-token:<token>@`)."""
    rest = app_github.rest.apps
    data = await call(lambda: rest.async_create_installation_access_token(installation_id))
    return InstallationToken(data["token"], data["expires_at"])


@contextmanager
def github_errors() -> Iterator[None]:
    """Map githubkit's failures to ours: `RateLimited`, or `GitHubError` with the status.
    Installation-token requests fail inside httpx's auth flow and arrive wrapped in a
    `RequestError`: those are unwrapped the same way."""
    try:
        yield
    except RequestFailed as exc:
        raise _mapped(exc) from exc
    except RequestError as exc:
        if isinstance(exc.exc, RequestFailed):
            raise _mapped(exc.exc) from exc
        raise


def _mapped(exc: RequestFailed) -> GitHubError:
    if isinstance(exc, RateLimitExceeded):
        limited = RateLimited(datetime.now(UTC) + exc.retry_after)
        log.warning("%s (%s %s)", limited.message, exc.request.method, exc.request.url.path)
        return limited
    body = _json(exc.response.raw_response)
    message = body.get("message", "") if isinstance(body, dict) else ""
    return GitHubError(exc.response.status_code, message or repr(exc))


async def call(request: Callable[[], Awaitable[Any]]) -> Any:
    """Run one githubkit call and return its JSON (read leniently, never `parsed_data`)."""
    with github_errors():
        response = await request()
    return _json(response.raw_response)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


# ----------------------------------------------------------------------------- models


def _login(obj: Any) -> str:
    return (obj or {}).get("login", "") if isinstance(obj, dict) else ""


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    user: str
    html_url: str

    @classmethod
    def of(cls, d: dict[str, Any]) -> Comment:
        return cls(d["id"], d.get("body") or "", _login(d.get("user")), d.get("html_url", ""))


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str
    state: str
    user: str
    labels: tuple[str, ...]
    is_pull_request: bool
    html_url: str

    @classmethod
    def of(cls, d: dict[str, Any]) -> Issue:
        labels = tuple(x["name"] if isinstance(x, dict) else x for x in d.get("labels") or [])
        return cls(
            d["number"],
            d.get("title") or "",
            d.get("body") or "",
            d.get("state", "open"),
            _login(d.get("user")),
            labels,
            "pull_request" in d,
            d.get("html_url", ""),
        )


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str
    title: str
    body: str
    draft: bool
    merged: bool
    head_ref: str
    head_sha: str
    base_ref: str
    html_url: str
    user: str

    @classmethod
    def of(cls, d: dict[str, Any]) -> PullRequest:
        head, base = d.get("head") or {}, d.get("base") or {}
        return cls(
            d["number"],
            d.get("state", "open"),
            d.get("title") or "",
            d.get("body") or "",
            bool(d.get("draft")),
            _merged(d),
            head.get("ref", ""),
            head.get("sha", ""),
            base.get("ref", ""),
            d.get("html_url", ""),
            _login(d.get("user")),
        )


def _merged(d: dict[str, Any]) -> bool:
    # Lists (pull-request-simple) carry only `merged_at`; a full PR says `merged` outright.
    return bool(d["merged"]) if "merged" in d else d.get("merged_at") is not None


@dataclass(frozen=True)
class Repository:
    full_name: str
    default_branch: str
    clone_url: str
    html_url: str
    private: bool


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_slug: str
    details_url: str | None
    title: str | None
    summary: str | None

    @classmethod
    def of(cls, d: dict[str, Any]) -> CheckRun:
        output = d.get("output") or {}
        return cls(
            d["id"],
            d.get("name", ""),
            d.get("head_sha", ""),
            d.get("status", ""),
            d.get("conclusion"),
            (d.get("app") or {}).get("slug", ""),
            d.get("details_url"),
            output.get("title"),
            output.get("summary"),
        )


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str | None
    title: str | None
    message: str | None

    @classmethod
    def of(cls, d: dict[str, Any]) -> Annotation:
        return cls(
            d.get("path", ""),
            d.get("start_line") or 0,
            d.get("end_line") or 0,
            d.get("annotation_level"),
            d.get("title"),
            d.get("message"),
        )


@dataclass(frozen=True)
class Review:
    id: int
    user: str
    state: str
    body: str
    commit_id: str | None


@dataclass(frozen=True)
class ReviewComment:
    id: int
    user: str
    body: str
    path: str
    line: int | None


# ----------------------------------------------------------------------------- the wrapper


class GitHubAPI:
    """What the bot does on GitHub, one method per need, on an installation client."""

    def __init__(self, gh: GitHub[Any], settings: Settings | None = None) -> None:
        self.gh = gh
        self.settings = settings

    async def _pages(self, method: Callable[..., Any], pick: str | None = None, **kw: Any):
        def items(response: Any) -> list[Any]:
            data = _json(response.raw_response)
            return list((data or {}).get(pick, []) if pick else data or [])

        with github_errors():
            return [item async for item in self.gh.rest.paginate(method, items, per_page=100, **kw)]

    # ------------------------------------------------------------------ comments
    async def create_comment(self, owner: str, repo: str, number: int, body: str) -> Comment:
        issues = self.gh.rest.issues
        return Comment.of(
            await call(lambda: issues.async_create_comment(owner, repo, number, body=body))
        )

    async def edit_comment(self, owner: str, repo: str, comment_id: int, body: str) -> Comment:
        issues = self.gh.rest.issues
        return Comment.of(
            await call(lambda: issues.async_update_comment(owner, repo, comment_id, body=body))
        )

    async def get_comment(self, owner: str, repo: str, comment_id: int) -> Comment | None:
        try:
            data = await call(
                lambda: self.gh.rest.issues.async_get_comment(owner, repo, comment_id)
            )
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        return Comment.of(data)

    async def list_comments(self, owner: str, repo: str, number: int) -> list[Comment]:
        method = self.gh.rest.issues.async_list_comments
        items = await self._pages(method, owner=owner, repo=repo, issue_number=number)
        return [Comment.of(item) for item in items]

    async def find_comment(
        self, owner: str, repo: str, number: int, marker: str, *, author: str | None = None
    ) -> Comment | None:
        """The first comment containing the hidden `marker` (by `author` when given, so a
        person quoting the marker is never mistaken for the bot)."""
        for comment in await self.list_comments(owner, repo, number):
            if marker in comment.body and author in (None, comment.user):
                return comment
        return None

    # ------------------------------------------------------------------ reactions
    async def react_to_issue(self, owner: str, repo: str, number: int, content: Reaction) -> None:
        reactions = self.gh.rest.reactions
        await call(lambda: reactions.async_create_for_issue(owner, repo, number, content=content))

    async def react_to_comment(
        self, owner: str, repo: str, comment_id: int, content: Reaction
    ) -> None:
        method = self.gh.rest.reactions.async_create_for_issue_comment
        await call(lambda: method(owner, repo, comment_id, content=content))

    # ------------------------------------------------------------------ labels
    async def add_labels(
        self, owner: str, repo: str, number: int, labels: Sequence[str]
    ) -> list[str]:
        issues = self.gh.rest.issues
        data = await call(lambda: issues.async_add_labels(owner, repo, number, labels=list(labels)))
        return [label["name"] for label in data or []]

    async def remove_label(self, owner: str, repo: str, number: int, label: str) -> bool:
        """False when the label was not on the issue (already removed)."""
        try:
            await call(lambda: self.gh.rest.issues.async_remove_label(owner, repo, number, label))
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def ensure_label(
        self, owner: str, repo: str, name: str, color: str = "5319e7", description: str = ""
    ) -> None:
        issues = self.gh.rest.issues
        try:
            await call(lambda: issues.async_get_label(owner, repo, name))
            return
        except GitHubError as exc:
            if exc.status != 404:
                raise
        try:
            await call(
                lambda: issues.async_create_label(
                    owner, repo, name=name, color=color, description=description
                )
            )
        except GitHubError as exc:
            if exc.status != 422:  # created meanwhile by another job: fine
                raise

    # ------------------------------------------------------------------ people
    async def permission(self, owner: str, repo: str, username: str) -> str:
        """admin | maintain | write | triage | read | none (custom roles: their base)."""
        method = self.gh.rest.repos.async_get_collaborator_permission_level
        try:
            data = await call(lambda: method(owner, repo, username))
        except GitHubError as exc:
            if exc.status == 404:
                return "none"
            raise
        role = data.get("role_name")
        return role if role in ROLES else data.get("permission", "none")

    # ------------------------------------------------------------------ issues
    async def get_issue(self, owner: str, repo: str, number: int) -> Issue:
        return Issue.of(await call(lambda: self.gh.rest.issues.async_get(owner, repo, number)))

    async def update_issue_body(self, owner: str, repo: str, number: int, body: str) -> Issue:
        issues = self.gh.rest.issues
        return Issue.of(await call(lambda: issues.async_update(owner, repo, number, body=body)))

    # ------------------------------------------------------------------ repository
    async def file_contents(
        self, owner: str, repo: str, path: str, ref: str | None = None
    ) -> str | None:
        """Decoded text of a file at `ref` (default branch when None); None when absent."""
        kwargs = {"ref": ref} if ref else {}
        method = self.gh.rest.repos.async_get_content
        try:
            data = await call(lambda: method(owner, repo, path, **kwargs))
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        return base64.b64decode(data.get("content") or "").decode("utf-8", errors="replace")

    async def repository(self, owner: str, repo: str) -> Repository:
        data = await call(lambda: self.gh.rest.repos.async_get(owner, repo))
        return Repository(
            data["full_name"],
            data.get("default_branch") or "main",
            self.clone_url(data["owner"]["login"], data["name"]),
            data.get("html_url", ""),
            bool(data.get("private")),
        )

    def clone_url(self, owner: str, repo: str) -> str:
        """From settings (GIT_URL_TEMPLATE, else GITHUB_WEB_URL): never a fixed host."""
        settings = self.settings or Settings()
        if settings.git_url_template:
            return settings.git_url_template.format(owner=owner, repo=repo)
        return f"{settings.github_web_url.rstrip('/')}/{owner}/{repo}.git"

    async def delete_branch(self, owner: str, repo: str, branch: str) -> bool:
        """False when the branch was already gone."""
        try:
            await call(lambda: self.gh.rest.git.async_delete_ref(owner, repo, f"heads/{branch}"))
        except GitHubError as exc:
            if exc.status == 422:
                return False
            raise
        return True

    # ------------------------------------------------------------------ pull requests
    async def create_pull(
        self,
        owner: str,
        repo: str,
        *,
        title: str,
        head: str,
        base: str,
        body: str,
        draft: bool = True,
    ) -> PullRequest:
        pulls = self.gh.rest.pulls
        data = await call(
            lambda: pulls.async_create(
                owner,
                repo,
                title=title,
                head=head,
                base=base,
                body=body,
                draft=draft,
                maintainer_can_modify=True,
            )
        )
        return PullRequest.of(data)

    async def find_open_pull(self, owner: str, repo: str, head: str) -> PullRequest | None:
        """The open PR whose head is branch `head` of this repository."""
        pulls = self.gh.rest.pulls
        data = await call(
            lambda: pulls.async_list(owner, repo, head=f"{owner}:{head}", state="open")
        )
        return PullRequest.of(data[0]) if data else None

    async def get_pull(self, owner: str, repo: str, number: int) -> PullRequest:
        return PullRequest.of(await call(lambda: self.gh.rest.pulls.async_get(owner, repo, number)))

    async def update_pull(self, owner: str, repo: str, number: int, **changes: str) -> PullRequest:
        """`changes`: title, body, base, state ("open" / "closed")."""
        pulls = self.gh.rest.pulls
        return PullRequest.of(
            await call(lambda: pulls.async_update(owner, repo, number, **changes))
        )

    async def close_pull(self, owner: str, repo: str, number: int) -> PullRequest:
        return await self.update_pull(owner, repo, number, state="closed")

    async def request_reviewers(
        self, owner: str, repo: str, number: int, reviewers: Sequence[str]
    ) -> None:
        method = self.gh.rest.pulls.async_request_reviewers
        await call(lambda: method(owner, repo, number, reviewers=list(reviewers)))

    async def list_reviews(self, owner: str, repo: str, number: int) -> list[Review]:
        method = self.gh.rest.pulls.async_list_reviews
        items = await self._pages(method, owner=owner, repo=repo, pull_number=number)
        return [
            Review(
                d["id"],
                _login(d.get("user")),
                d.get("state", ""),
                d.get("body") or "",
                d.get("commit_id"),
            )
            for d in items
        ]

    async def list_review_comments(self, owner: str, repo: str, number: int) -> list[ReviewComment]:
        method = self.gh.rest.pulls.async_list_review_comments
        items = await self._pages(method, owner=owner, repo=repo, pull_number=number)
        return [
            ReviewComment(
                d["id"],
                _login(d.get("user")),
                d.get("body") or "",
                d.get("path", ""),
                d.get("line") or d.get("original_line"),
            )
            for d in items
        ]

    # ------------------------------------------------------------------ checks
    async def create_check_run(
        self,
        owner: str,
        repo: str,
        *,
        name: str,
        head_sha: str,
        status: Literal["queued", "in_progress", "completed"] = "in_progress",
        **fields: Any,
    ) -> CheckRun:
        """`fields`: details_url, external_id, conclusion, output={title, summary, text,
        annotations}."""
        checks = self.gh.rest.checks
        data = await call(
            lambda: checks.async_create(
                owner, repo, name=name, head_sha=head_sha, status=status, **fields
            )
        )
        return CheckRun.of(data)

    async def update_check_run(
        self, owner: str, repo: str, check_run_id: int, **fields: Any
    ) -> CheckRun:
        """`fields`: status, conclusion, details_url, output={title, summary, ...}."""
        checks = self.gh.rest.checks
        return CheckRun.of(
            await call(lambda: checks.async_update(owner, repo, check_run_id, **fields))
        )

    async def list_check_runs(
        self, owner: str, repo: str, ref: str, *, check_name: str | None = None
    ) -> list[CheckRun]:
        kw: dict[str, Any] = {"check_name": check_name} if check_name else {}
        method = self.gh.rest.checks.async_list_for_ref
        items = await self._pages(method, "check_runs", owner=owner, repo=repo, ref=ref, **kw)
        return [CheckRun.of(item) for item in items]

    async def check_run_annotations(
        self, owner: str, repo: str, check_run_id: int
    ) -> list[Annotation]:
        method = self.gh.rest.checks.async_list_annotations
        items = await self._pages(method, owner=owner, repo=repo, check_run_id=check_run_id)
        return [Annotation.of(item) for item in items]
