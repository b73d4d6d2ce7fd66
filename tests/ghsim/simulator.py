"""`GitHubSimulator`: state, the ASGI app, webhooks out, and a small scenario API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from . import events
from .app import SimulatorApp
from .gitrepo import BareRepo
from .installs import InstallActs
from .oauth_web import Grant
from .openapi import SchemaViolation, Violation
from .people import PeopleAct
from .render import Renderer
from .state import (
    PERMISSIONS,
    AppInfo,
    CheckRun,
    Comment,
    Installation,
    Issue,
    Repo,
    SimState,
    User,
    now_iso,
)
from .webhooks import Deliver, Delivery, new_delivery, schema_errors

DEFAULT_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}


class GitHubSimulator(PeopleAct, InstallActs):
    def __init__(
        self,
        root: Path,
        *,
        private_key_pem: str,
        app_id: int = 4242,
        app_slug: str = "issuewright",
        api_url: str = "https://api.github.com",
        web_url: str = "https://github.com",
        deliver: Deliver | None = None,
        validate: bool = True,
    ) -> None:
        self.root = root
        # Check every request, response and webhook against GitHub's published schemas. Only
        # benchmarks that send thousands of calls turn it off (bench/ghsim_server.py).
        self.validate = validate
        self.private_key_pem = private_key_pem
        self.api_url = api_url.rstrip("/")
        self.web_url = web_url.rstrip("/")
        self.state = SimState()
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        owner = self.state.user("issuewright-dev", "Organization")
        self.bot = self.state.user(f"{app_slug}[bot]", "Bot")
        self.app = AppInfo(app_id, app_slug, "Issuewright", owner, public_pem, self.bot)
        self.app_permissions = dict(DEFAULT_PERMISSIONS)
        self.render = Renderer(self.api_url, self.web_url, self.app)
        self.asgi = SimulatorApp(self)
        self.deliver = deliver
        self.deliveries: list[Delivery] = []
        self.outbox: list[Delivery] = []
        self.delivery_errors: list[str] = []
        self.violations: list[Violation] = []
        self.requests: list[Any] = []
        self.tokens_issued: list[str] = []
        self.tampers: dict[tuple[str, str], Callable[[Any], Any]] = {}
        self.job_logs: dict[int, str] = {}  # Actions job (check run) id → its log text
        self.rate_remaining = 5000
        # The App's OAuth credentials and user authorization (tests/ghsim/oauth_web.py).
        self.oauth_client_id = f"Iv1.sim{app_id}"
        self.oauth_client_secret = secrets.token_hex(20)
        self.oauth_callback_urls: list[str] = []
        self.oauth_codes: dict[str, Grant] = {}
        self.user_tokens: dict[str, str] = {}  # user token → login
        self.signed_in: str | None = None  # who the consent page shows as signed in
        self._rate_limits: list[tuple[int, dict[str, str], dict[str, Any]]] = []

    # ---------------------------------------------------------------- wiring
    @property
    def git_url_template(self) -> str:
        return f"file://{self.root}/{{owner}}/{{repo}}.git"

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.asgi)

    def settings_overrides(self) -> dict[str, Any]:
        """Values for `Settings(...)` / `settings.with_(...)` that point the bot here."""
        return {
            "app_id": str(self.app.id),
            "private_key": self.private_key_pem,
            "app_slug": self.app.slug,
            "github_api_url": self.api_url,
            "github_web_url": self.web_url,
            "git_url_template": self.git_url_template,
        }

    def oauth_settings(self, public_url: str) -> dict[str, Any]:
        """`Settings` values for logging in with GitHub through this simulator: the App's client
        id and secret, and the dashboard's callback registered as the App's callback URL."""
        self.oauth_callback_urls = [f"{public_url.rstrip('/')}/dashboard/login/callback"]
        return {
            "client_id": self.oauth_client_id,
            "client_secret": self.oauth_client_secret,
            "public_url": public_url,
        }

    # ---------------------------------------------------------------- setup
    def create_installation(
        self, account: str, *, repositories: Iterable[str] | None = None, type: str = "User"
    ) -> Installation:
        """Install the app on `account`: all its repositories, or only `repositories`."""
        inst = Installation(self.state.new_id(), self.state.user(account, type))
        if repositories is not None:
            inst.repository_selection = "selected"
            inst.repositories = {r if "/" in r else f"{account}/{r}" for r in repositories}
        self.state.installations[inst.id] = inst
        return inst

    def suspend_installation(self, installation_id: int) -> None:
        self.state.installations[installation_id].suspended_at = now_iso()

    def create_repo(
        self,
        owner: str,
        name: str,
        files: dict[str, str],
        default_branch: str = "main",
        *,
        private: bool = False,
        install: bool = True,
    ) -> Repo:
        """A repository with one commit holding `files`; installs the app on `owner` unless
        an installation already covers it (`install=False` to leave it uninstalled)."""
        user = self.state.user(owner)
        git = BareRepo.init(self.root / owner / f"{name}.git", default_branch)
        git.commit_files(default_branch, dict(files), "Initial commit", self.author(owner))
        repo = Repo(self.state.new_id(), user, name, default_branch, git, private=private)
        self.state.repos[repo.full_name.lower()] = repo
        if install and self.state.installation_for(repo) is None:
            if not any(i.account is user for i in self.state.installations.values()):
                self.create_installation(owner)
        return repo

    def set_permission(self, repo: str, user: str, perm: str) -> None:
        if perm not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}")
        self.state.user(user)
        self.repo(repo).permissions[user] = perm

    # ---------------------------------------------------------------- accessors
    def repo(self, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        repo = self.state.repo(owner, name)
        if repo is None:
            raise KeyError(f"no repository {full_name} in the simulator")
        return repo

    def issue(self, repo: str, number: int) -> Issue:
        return self.repo(repo).issues[number]

    def comments(self, repo: str, number: int) -> list[Comment]:
        return list(self.issue(repo, number).comments)

    def reactions(self, repo: str, number: int, comment_id: int | None = None) -> list[str]:
        if comment_id is not None:
            return [r.content for r in self.state.comments[comment_id].reactions]
        return [r.content for r in self.issue(repo, number).reactions]

    def pulls(self, repo: str, state: str = "all") -> list[Issue]:
        found = [i for i in self.repo(repo).issues.values() if i.pull]
        return [i for i in found if state in {"all", i.state}]

    def check_runs(self, repo: str, sha: str | None = None) -> list[CheckRun]:
        return [r for r in self.repo(repo).check_runs if sha in (None, r.head_sha)]

    def branch_sha(self, repo: str, branch: str) -> str | None:
        return self.repo(repo).git.branch_sha(branch)

    def read_file(self, repo: str, ref: str, path: str) -> str | None:
        found = self.repo(repo).git.read_file(ref, path)
        return found[0].decode() if found else None

    def open_pulls_at(self, repo: Repo, sha: str) -> list[Issue]:
        return [
            i
            for i in repo.issues.values()
            if i.pull and i.state == "open" and i.pull.head_sha == sha
        ]

    def user(self, login: str) -> User:
        return self.state.user(login)

    # ---------------------------------------------------------------- knobs
    def tamper(self, method: str, template: str, change: Callable[[Any], Any]) -> None:
        """Pass the next reply of one operation through `change` (to test the contract)."""
        self.tampers[(method.upper(), template)] = change

    def rate_limit(self, *, times: int = 1, secondary: bool = False, reset_in: int = 3600) -> None:
        """The next `times` API calls are refused as rate limited (403, as GitHub does)."""
        reset = int(time.time()) + reset_in
        if secondary:
            headers = {"retry-after": str(reset_in)}
            message = "You have exceeded a secondary rate limit. Please wait a few minutes."
        else:
            headers = {
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-limit": "5000",
                "x-ratelimit-used": "5000",
            }
            message = "API rate limit exceeded for installation."
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        self._rate_limits.extend([(403, headers, body)] * times)

    def take_rate_limit(self) -> Any:
        from .core import Reply

        if not self._rate_limits:
            return None
        status, headers, body = self._rate_limits.pop(0)
        return Reply(status, dict(body), dict(headers))

    def rate_limit_headers(self) -> dict[str, str]:
        self.rate_remaining = max(self.rate_remaining - 1, 0)
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(self.rate_remaining),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-used": str(5000 - self.rate_remaining),
            "x-ratelimit-resource": "core",
        }

    # ---------------------------------------------------------------- webhooks out
    def queue_pull_request_event(self, repo: Repo, issue: Issue, action: str, sender: User):
        self._emit("pull_request", events.pull_request(self, repo, issue, action, sender))

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        errors = schema_errors(event, payload) if self.validate else []
        if errors:
            name = f"{event}.{payload.get('action')}"
            for detail in errors:
                self.violations.append(Violation("webhook", name, detail))
            raise SchemaViolation(f"webhook {name} violates the webhook schema: {errors}")
        self.outbox.append(new_delivery(event, payload))

    async def flush(self, *, raise_errors: bool = True) -> None:
        """Deliver queued webhooks in order (to `deliver` when set; recorded always)."""
        while self.outbox:
            delivery = self.outbox.pop(0)
            self.deliveries.append(delivery)
            if self.deliver is None:
                continue
            try:
                await self.deliver(delivery.event, delivery.payload)
            except Exception as exc:
                self.delivery_errors.append(f"{delivery.event}.{delivery.action}: {exc!r}")
                if raise_errors:
                    raise

    def webhooks(self, event: str | None = None, action: str | None = None) -> list[Delivery]:
        return [
            d for d in self.deliveries if event in (None, d.event) and action in (None, d.action)
        ]
