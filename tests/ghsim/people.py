"""What people do on the simulated GitHub (open and label issues, comment, push, review,
merge) and what CI reports; each sends the webhooks GitHub would."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import events
from .gitrepo import Author
from .routes_checks import suite_for
from .routes_issues import ensure_label
from .routes_pulls import refresh_shas
from .state import CheckRun, CheckSuite, Comment, Issue, Repo, Review, ReviewComment, now_iso

if TYPE_CHECKING:
    from .render import Renderer
    from .state import SimState

CI_APP_ID = 15368  # GitHub Actions' app id on github.com


class PeopleAct:
    """Mixin of `GitHubSimulator`: the scenario actions."""

    state: SimState
    render: Renderer

    def repo(self, full_name: str) -> Repo:
        raise NotImplementedError

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    async def flush(self, *, raise_errors: bool = True) -> None:
        raise NotImplementedError

    @staticmethod
    def author(login: str) -> Author:
        return Author(login, f"{login}@users.noreply.example.com")

    async def open_issue(
        self,
        repo: str,
        title: str,
        body: str = "",
        user: str = "octocat",
        labels: Iterable[str] = (),
    ) -> Issue:
        """Sends `issues.opened`, then `issues.labeled` per label, as GitHub does."""
        r = self.repo(repo)
        issue = Issue(self.state.new_id(), r.next_number(), title, body, self.state.user(user))
        r.issues[issue.number] = issue
        self._emit("issues", events.issues(self, r, issue, "opened", issue.user))
        for name in labels:
            await self.label_issue(repo, issue.number, name, user, flush=False)
        await self.flush()
        return issue

    async def label_issue(
        self, repo: str, number: int, label: str, user: str = "octocat", *, flush: bool = True
    ) -> None:
        r = self.repo(repo)
        issue = r.issues[number]
        found = r.labels.get(label.lower())
        if found is None:
            found = ensure_label(self.state, r, label)
        if found not in issue.labels:
            issue.labels.append(found)
        issue.updated_at = self.state.tick()
        sender = self.state.user(user)
        self._emit("issues", events.issues(self, r, issue, "labeled", sender, found))
        if flush:
            await self.flush()

    async def unlabel_issue(self, repo: str, number: int, label: str, user: str) -> None:
        """A person removes a label: sends `issues.unlabeled`."""
        r = self.repo(repo)
        issue = r.issues[number]
        found = next(lb for lb in issue.labels if lb.name.lower() == label.lower())
        issue.labels.remove(found)
        issue.updated_at = self.state.tick()
        sender = self.state.user(user)
        self._emit("issues", events.issues(self, r, issue, "unlabeled", sender, found))
        await self.flush()

    async def edit_issue(
        self,
        repo: str,
        number: int,
        user: str,
        *,
        title: str | None = None,
        body: str | None = None,
    ) -> None:
        """A person edits an issue's title and/or body: sends `issues.edited` with `changes`."""
        r = self.repo(repo)
        issue = r.issues[number]
        changes: dict[str, Any] = {}
        if title is not None and title != issue.title:
            changes["title"], issue.title = {"from": issue.title}, title
        if body is not None and body != issue.body:
            changes["body"], issue.body = {"from": issue.body or ""}, body
        issue.updated_at = self.state.tick()
        payload = events.issues(self, r, issue, "edited", self.state.user(user))
        self._emit("issues", {**payload, "changes": changes})
        await self.flush()

    async def comment(self, repo: str, number: int, body: str, user: str) -> Comment:
        """A person comments on an issue or PR: sends `issue_comment.created`."""
        r = self.repo(repo)
        issue = r.issues[number]
        comment = Comment(self.state.new_id(), r, number, body, self.state.user(user))
        issue.comments.append(comment)
        self.state.comments[comment.id] = comment
        self._emit("issue_comment", events.issue_comment(self, r, issue, comment, "created"))
        await self.flush()
        return comment

    async def push_commit(
        self,
        repo: str,
        branch: str,
        files: dict[str, str | bytes | None],
        author: str = "octocat",
        message: str = "Human commit",
    ) -> str:
        """A person pushes; an open PR from `branch` gets `pull_request.synchronize`."""
        r = self.repo(repo)
        sha = r.git.commit_files(
            branch, files, message, self.author(author), start_point=r.default_branch
        )
        for issue in list(r.issues.values()):
            if issue.pull and issue.state == "open" and issue.pull.head == branch:
                refresh_shas(r, issue)
                sender = self.state.user(author)
                self._emit(
                    "pull_request", events.pull_request(self, r, issue, "synchronize", sender)
                )
        await self.flush()
        return sha

    async def report_checks(
        self,
        repo: str,
        sha: str,
        conclusion: str = "success",
        runs: dict[str, str] | None = None,
    ) -> CheckSuite:
        """CI (another app) finishes: completed check runs (`runs`: name → conclusion, default
        one run "ci" with `conclusion`) then the suite; sends `check_run.completed` for each
        run and `check_suite.completed`. `sha` may be a branch name."""
        r = self.repo(repo)
        head_sha = r.git.rev_parse(sha) or r.git.branch_sha(sha)
        if head_sha is None:
            raise ValueError(f"no commit {sha} in {repo}")
        suite = suite_for(self.state, r, head_sha, CI_APP_ID)
        results = runs or {"ci": conclusion}
        ci = self.state.user("github-actions[bot]", "Bot")
        for name, result in results.items():
            run = CheckRun(self.state.new_id(), name, head_sha, suite, CI_APP_ID)
            run.status, run.conclusion, run.completed_at = "completed", result, now_iso()
            run.output = {"title": f"{name}: {result}", "summary": f"{name} {result}"}
            run.external_id = str(run.id)
            run.details_url = f"{self.render.repo_web(r)}/actions/runs/{run.id}"
            r.check_runs.append(run)
            self.state.check_runs[run.id] = run
            self._emit("check_run", events.check_run(self, r, run, "completed", ci))
        order = ["action_required", "cancelled", "timed_out", "failure", "neutral", "success"]
        suite.status = "completed"
        suite.conclusion = min(results.values(), key=lambda c: order.index(c) if c in order else 0)
        suite.updated_at = now_iso()
        self._emit("check_suite", events.check_suite(self, r, suite, "completed", ci))
        await self.flush()
        return suite

    async def merge_pr(self, repo: str, number: int, user: str = "octocat") -> str:
        """Merge for real in the bare repository; sends `pull_request.closed` (merged)."""
        r = self.repo(repo)
        issue = r.issues[number]
        pr = issue.pull
        assert pr is not None and issue.state == "open", f"#{number} is not an open PR"
        refresh_shas(r, issue)
        merger = self.state.user(user)
        message = f"Merge pull request #{number} from {r.owner.login}/{pr.head}\n\n{issue.title}"
        sha = r.git.merge(pr.base, pr.head, message, self.author(user))
        pr.merged, pr.merged_at, pr.merged_by, pr.merge_commit_sha = True, now_iso(), merger, sha
        issue.state, issue.closed_at = "closed", pr.merged_at
        self._emit("pull_request", events.pull_request(self, r, issue, "closed", merger))
        await self.flush()
        return sha

    async def submit_review(
        self,
        repo: str,
        number: int,
        user: str,
        state: str = "APPROVED",
        body: str = "",
        comments: Iterable[tuple[str, int, str]] = (),
    ) -> Review:
        """A person reviews a PR (`state`: APPROVED | CHANGES_REQUESTED | COMMENTED) with
        line `comments` (path, line, body); sends `pull_request_review.submitted`."""
        r = self.repo(repo)
        issue = r.issues[number]
        pr = issue.pull
        assert pr is not None, f"#{number} is not a PR"
        refresh_shas(r, issue)
        author = self.state.user(user)
        review = Review(self.state.new_id(), author, state, body, pr.head_sha)
        pr.reviews.append(review)
        for path, line, text in comments:
            pr.review_comments.append(
                ReviewComment(self.state.new_id(), review.id, author, text, path, line, pr.head_sha)
            )
        self._emit(
            "pull_request_review", events.pull_request_review(self, r, issue, review, "submitted")
        )
        await self.flush()
        return review
