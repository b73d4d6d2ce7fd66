"""What the simulated GitHub remembers: plain dataclasses, no behaviour beyond lookups."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .gitrepo import BareRepo

PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")
# role_name → the legacy `permission` GitHub reports next to it.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "User" | "Organization" | "Bot"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Reaction:
    id: int
    user: User
    content: str
    created_at: str = field(default_factory=now_iso)


@dataclass
class Comment:
    id: int
    repo: Repo
    issue_number: int
    body: str
    user: User
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Review:
    id: int
    user: User
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    body: str
    commit_id: str
    submitted_at: str = field(default_factory=now_iso)


@dataclass
class ReviewComment:
    id: int
    review_id: int | None
    user: User
    body: str
    path: str
    line: int
    commit_id: str
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class PullRequest:
    id: int
    head: str
    base: str
    draft: bool = False
    maintainer_can_modify: bool = True
    merged: bool = False
    merged_at: str | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    # Last known head/base sha: kept after the head branch is deleted.
    head_sha: str = ""
    base_sha: str = ""
    requested_reviewers: list[User] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)


@dataclass
class Issue:
    """An issue or, when `pull` is set, a pull request (GitHub numbers both alike)."""

    id: int
    number: int
    title: str
    body: str | None
    user: User
    labels: list[Label] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    closed_at: str | None = None
    comments: list[Comment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    pull: PullRequest | None = None


@dataclass
class CheckSuite:
    id: int
    head_sha: str
    head_branch: str | None
    app_id: int
    status: str = "queued"
    conclusion: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    suite: CheckSuite
    app_id: int
    status: str = "queued"
    conclusion: str | None = None
    external_id: str | None = None
    details_url: str | None = None
    started_at: str | None = field(default_factory=now_iso)
    completed_at: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    default_branch: str
    git: BareRepo
    private: bool = False
    created_at: str = field(default_factory=now_iso)
    labels: dict[str, Label] = field(default_factory=dict)  # key: lower-cased name
    issues: dict[int, Issue] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login → role name
    check_suites: list[CheckSuite] = field(default_factory=list)
    check_runs: list[CheckRun] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1


@dataclass
class Installation:
    id: int
    account: User
    repository_selection: str = "all"  # "all" | "selected"
    repositories: set[str] = field(default_factory=set)  # full names when "selected"
    suspended_at: str | None = None
    created_at: str = field(default_factory=now_iso)

    def covers(self, repo: Repo) -> bool:
        """The repository is one this installation was granted (suspended or not)."""
        if repo.owner.login != self.account.login:
            return False
        return self.repository_selection == "all" or repo.full_name in self.repositories

    def can_access(self, repo: Repo) -> bool:
        return self.suspended_at is None and self.covers(repo)


@dataclass
class AppInfo:
    id: int
    slug: str
    name: str
    owner: User
    public_key_pem: bytes
    bot: User


class SimState:
    def __init__(self) -> None:
        self._ids = itertools.count(1001)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}  # key: lower-cased full name
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, int] = {}  # installation token → installation id
        self.comments: dict[int, Comment] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self._last_tick: datetime | None = None

    def new_id(self) -> int:
        return next(self._ids)

    def tick(self) -> str:
        """Now, but always later than the previous tick: GitHub stamps each change to an issue
        with its own second (people do not re-label within one), and scenarios run faster."""
        moment = datetime.now(UTC).replace(microsecond=0)
        if self._last_tick is not None and moment <= self._last_tick:
            moment = self._last_tick + timedelta(seconds=1)
        self._last_tick = moment
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def user(self, login: str, type: str = "User") -> User:
        if login not in self.users:
            self.users[login] = User(login=login, id=self.new_id(), type=type)
        return self.users[login]

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def installation_for(self, repo: Repo) -> Installation | None:
        return next((i for i in self.installations.values() if i.can_access(repo)), None)
