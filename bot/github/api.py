"""`GitHubAPI`: what the bot does on GitHub, one thin typed method per need.

Every method goes through `call` (one githubkit request, errors mapped to `GitHubError` /
`RateLimited`, JSON read leniently) and returns a dataclass from `models`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Literal

from githubkit import GitHub
from githubkit.utils import UNSET

from bot.github.checks_api import ChecksAPI
from bot.github.client import GitHubError, call
from bot.github.models import (
    Comment,
    Issue,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
)
from bot.settings import Settings

Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]
ROLES = ("admin", "maintain", "write", "triage", "read", "none")


class GitHubAPI(ChecksAPI):
    """What the bot does on GitHub, one method per need, on an installation client."""

    def __init__(self, gh: GitHub[Any], settings: Settings | None = None) -> None:
        self.gh = gh
        self.settings = settings

    # ------------------------------------------------------------------ comments
    async def create_comment(self, owner: str, repo: str, number: int, body: str) -> Comment:
        issues = self.gh.rest.issues
        body = self._public(body)
        return Comment.of(
            await call(lambda: issues.async_create_comment(owner, repo, number, body=body))
        )

    async def edit_comment(self, owner: str, repo: str, comment_id: int, body: str) -> Comment:
        issues = self.gh.rest.issues
        body = self._public(body)
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
        method = self.gh.rest.repos.async_get_content
        try:
            # UNSET leaves `ref` out of the query; GitHub then reads the default branch.
            data = await call(lambda: method(owner, repo, path, ref=ref or UNSET))
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
            data.get("id") if isinstance(data.get("id"), int) else None,
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
        title, body = self._public(title), self._public(body)
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

    async def update_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        base: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> PullRequest:
        """Change only what is given: None leaves a field out of the request (UNSET), since
        GitHub would read an explicit null as "clear it"."""
        pulls = self.gh.rest.pulls

        def unset(value: Any) -> Any:
            return UNSET if value is None else value

        title = None if title is None else self._public(title)
        body = None if body is None else self._public(body)

        return PullRequest.of(
            await call(
                lambda: pulls.async_update(
                    owner,
                    repo,
                    number,
                    title=unset(title),
                    body=unset(body),
                    base=unset(base),
                    state=unset(state),
                )
            )
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
        return [Review.of(d) for d in items]

    async def list_review_comments(self, owner: str, repo: str, number: int) -> list[ReviewComment]:
        method = self.gh.rest.pulls.async_list_review_comments
        items = await self._pages(method, owner=owner, repo=repo, pull_number=number)
        return [ReviewComment.of(d) for d in items]
