"""Simulator state → the JSON GitHub's REST API returns.

Large objects (repository, app, installation) start from the spec's own examples with their
URLs and names retargeted, so every field a real response carries is there; everything that
the simulator tracks is then set from state. The OpenAPI check in `app.py` catches any gap.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .openapi import openapi
from .render_apps import AppRenderer
from .render_base import node_id
from .state import Comment, Issue, Label, Reaction, Repo

__all__ = ["Renderer", "node_id"]


class Renderer(AppRenderer):
    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.repo_api(repo)}/labels/{quote(label.name)}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
        }

    def reaction(self, r: Reaction) -> dict[str, Any]:
        return {
            "id": r.id,
            "node_id": node_id("Reaction", r.id),
            "user": self.user(r.user),
            "content": r.content,
            "created_at": r.created_at,
        }

    def comment(self, c: Comment) -> dict[str, Any]:
        issue_url = f"{self.repo_api(c.repo)}/issues/{c.issue_number}"
        return {
            "id": c.id,
            "node_id": node_id("IssueComment", c.id),
            "url": f"{self.repo_api(c.repo)}/issues/comments/{c.id}",
            "html_url": f"{self.repo_web(c.repo)}/issues/{c.issue_number}#issuecomment-{c.id}",
            "body": c.body,
            "user": self.user(c.user),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "issue_url": issue_url,
            "author_association": self.author_association(c.repo, c.user),
        }

    def repository(self, repo: Repo) -> dict[str, Any]:
        data = self._retarget(openapi().example("full-repository-default-response"), repo.full_name)
        for key in ("organization", "parent", "source", "template_repository", "license"):
            data.pop(key, None)
        data.update(
            id=repo.id,
            node_id=node_id("Repository", repo.id),
            name=repo.name,
            full_name=repo.full_name,
            owner=self.user(repo.owner),
            private=repo.private,
            visibility="private" if repo.private else "public",
            description=None,
            homepage=None,
            language=None,
            license=None,
            topics=[],
            default_branch=repo.default_branch,
            clone_url=f"{self.repo_web(repo)}.git",
            created_at=repo.created_at,
            updated_at=repo.created_at,
            pushed_at=repo.created_at,
            open_issues_count=sum(i.state == "open" for i in repo.issues.values()),
            forks_count=0,
            stargazers_count=0,
            watchers_count=0,
            subscribers_count=0,
            network_count=0,
        )
        data["open_issues"] = data["open_issues_count"]
        return data

    # ---------------------------------------------------------------- issues and PRs
    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = f"{self.repo_api(repo)}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        data: dict[str, Any] = {
            "id": issue.id,
            "node_id": node_id("Issue", issue.id),
            "url": url,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.repo_web(repo)}/{kind}/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self.user(issue.user),
            "labels": [self.label(repo, label) for label in issue.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": len(issue.comments),
            "closed_at": issue.closed_at,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "author_association": self.author_association(repo, issue.user),
        }
        if issue.pull:
            web = f"{self.repo_web(repo)}/pull/{issue.number}"
            data["pull_request"] = {
                "url": f"{self.repo_api(repo)}/pulls/{issue.number}",
                "html_url": web,
                "diff_url": f"{web}.diff",
                "patch_url": f"{web}.patch",
                "merged_at": issue.pull.merged_at,
            }
            data["draft"] = issue.pull.draft
        return data

    def pull_request(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        pr = issue.pull
        assert pr is not None
        api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        web = f"{self.repo_web(repo)}/pull/{issue.number}"
        issue_api = f"{self.repo_api(repo)}/issues/{issue.number}"
        statuses = f"{self.repo_api(repo)}/statuses/{pr.head_sha}"
        adds, dels, files = (0, 0, 0)
        commits = 0
        if repo.git.branch_sha(pr.head) and repo.git.branch_sha(pr.base):
            adds, dels, files = repo.git.diff_stats(f"refs/heads/{pr.base}", pr.head_sha)
            commits = repo.git.count_commits(f"refs/heads/{pr.base}", pr.head_sha)

        def side(ref: str, sha: str) -> dict[str, Any]:
            return {
                "label": f"{repo.owner.login}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.user(repo.owner),
                "repo": self.repository(repo),
            }

        return {
            "url": api,
            "id": pr.id,
            "node_id": node_id("PullRequest", pr.id),
            "html_url": web,
            "diff_url": f"{web}.diff",
            "patch_url": f"{web}.patch",
            "issue_url": issue_api,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.repo_api(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": statuses,
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "labels": [self.label(repo, label) for label in issue.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "merged_at": pr.merged_at,
            "merge_commit_sha": pr.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [self.user(u) for u in pr.requested_reviewers],
            "requested_teams": [],
            "head": side(pr.head, pr.head_sha),
            "base": side(pr.base, pr.base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": web},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{self.repo_api(repo)}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": self.author_association(repo, issue.user),
            "auto_merge": None,
            "draft": pr.draft,
            "merged": pr.merged,
            "mergeable": None if pr.merged or issue.state == "closed" else True,
            "rebaseable": None,
            "mergeable_state": "clean" if issue.state == "open" else "unknown",
            "merged_by": self.user(pr.merged_by) if pr.merged_by else None,
            "comments": len(issue.comments),
            "review_comments": len(pr.review_comments),
            "maintainer_can_modify": pr.maintainer_can_modify,
            "commits": commits,
            "additions": adds,
            "deletions": dels,
            "changed_files": files,
        }
