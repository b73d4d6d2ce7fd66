"""Rendering of reviews, file contents, the App, installations and check runs."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from .openapi import openapi
from .render_base import RendererBase, node_id
from .state import CheckRun, Installation, Issue, Repo, Review, ReviewComment


class AppRenderer(RendererBase):
    def review(self, repo: Repo, issue: Issue, review: Review) -> dict[str, Any]:
        pr_api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        html = f"{self.repo_web(repo)}/pull/{issue.number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pr_api,
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_api}},
            "submitted_at": review.submitted_at,
            "commit_id": review.commit_id,
            "author_association": self.author_association(repo, review.user),
        }

    def review_comment(self, repo: Repo, issue: Issue, c: ReviewComment) -> dict[str, Any]:
        pr_api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        url = f"{self.repo_api(repo)}/pulls/comments/{c.id}"
        html = f"{self.repo_web(repo)}/pull/{issue.number}#discussion_r{c.id}"
        return {
            "url": url,
            "id": c.id,
            "node_id": node_id("PullRequestReviewComment", c.id),
            "pull_request_review_id": c.review_id,
            "diff_hunk": f"@@ -{c.line},1 +{c.line},1 @@",
            "path": c.path,
            "line": c.line,
            "side": "RIGHT",
            "commit_id": c.commit_id,
            "original_commit_id": c.commit_id,
            "user": self.user(c.user),
            "body": c.body,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "html_url": html,
            "pull_request_url": pr_api,
            "author_association": self.author_association(repo, c.user),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pr_api},
            },
        }

    # ---------------------------------------------------------------- files
    def content_file(self, repo: Repo, path: str, ref: str, data: bytes, sha: str) -> dict:
        url = f"{self.repo_api(repo)}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        git_url = f"{self.repo_api(repo)}/git/blobs/{sha}"
        html = f"{self.repo_web(repo)}/blob/{ref}/{path}"
        encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60-76 columns
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": encoded,
            "sha": sha,
            "url": url,
            "git_url": git_url,
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}",
            "_links": {"self": url, "git": git_url, "html": html},
        }

    # ---------------------------------------------------------------- apps and checks
    def integration(self, app_id: int | None = None) -> dict[str, Any]:
        """Our app, or (another id) the CI app whose check suites the bot follows."""
        app = self.app_info
        ours = app_id in (None, app.id)
        data = self._retarget(openapi().example("integration"))
        slug = app.slug if ours else "github-actions"
        data.update(
            id=app.id if ours else app_id,
            slug=slug,
            node_id=node_id("Integration", app.id if ours else app_id),
            client_id=f"Iv1.sim{app.id if ours else app_id}",
            owner=self.user(app.owner),
            name=app.name if ours else "GitHub Actions",
            description=None,
            external_url=f"{self.web}/apps/{slug}",
            html_url=f"{self.web}/apps/{slug}",
        )
        data.pop("client_secret", None)
        data.pop("webhook_secret", None)
        data.pop("pem", None)
        return data

    def installation(self, inst: Installation) -> dict[str, Any]:
        app = self.app_info
        data = self._retarget(openapi().example("base-installation"))
        data.update(
            id=inst.id,
            account=self.user(inst.account),
            repository_selection=inst.repository_selection,
            access_tokens_url=f"{self.api}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{self.api}/installation/repositories",
            html_url=f"{self.web}/settings/installations/{inst.id}",
            app_id=app.id,
            app_slug=app.slug,
            client_id=f"Iv1.sim{app.id}",
            target_id=inst.account.id,
            target_type=inst.account.type,
            created_at=inst.created_at,
            updated_at=inst.created_at,
            suspended_at=inst.suspended_at,
            suspended_by=self.user(inst.account) if inst.suspended_at else None,
        )
        return data

    def check_run(self, repo: Repo, run: CheckRun, pulls: list[Issue]) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/check-runs/{run.id}"
        output = run.output
        return {
            "id": run.id,
            "node_id": node_id("CheckRun", run.id),
            "head_sha": run.head_sha,
            "external_id": run.external_id,
            "url": api,
            "html_url": f"{self.repo_web(repo)}/runs/{run.id}",
            "details_url": run.details_url,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{api}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.suite.id},
            "app": self.integration(run.app_id),
            "pull_requests": [self.pull_minimal(repo, issue) for issue in pulls],
        }

    def pull_minimal(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        pr = issue.pull
        assert pr is not None
        ref = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
        return {
            "url": f"{self.repo_api(repo)}/pulls/{issue.number}",
            "id": pr.id,
            "number": issue.number,
            "head": {"ref": pr.head, "sha": pr.head_sha, "repo": ref},
            "base": {"ref": pr.base, "sha": pr.base_sha, "repo": ref},
        }

    def annotation(self, repo: Repo, run: CheckRun, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": a["path"],
            "blob_href": f"{self.repo_web(repo)}/blob/{run.head_sha}/{a['path']}",
            "start_line": a["start_line"],
            "end_line": a["end_line"],
            "start_column": a.get("start_column"),
            "end_column": a.get("end_column"),
            "annotation_level": a.get("annotation_level"),
            "title": a.get("title"),
            "message": a.get("message"),
            "raw_details": a.get("raw_details"),
        }
