"""Webhook payloads built from the simulator's state on the published examples' shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .render import node_id
from .state import CheckRun, CheckSuite, Comment, Installation, Issue, Label, Repo, Review, User
from .webhooks import fill, template

if TYPE_CHECKING:
    from .simulator import GitHubSimulator


def _common(sim: GitHubSimulator, tpl: dict[str, Any], repo: Repo, sender: User) -> dict:
    out = {
        "repository": fill(tpl["repository"], sim.render.repository(repo)),
        "sender": fill(tpl["sender"], sim.render.user(sender)),
    }
    inst = sim.state.installation_for(repo)
    if inst is not None:
        # The issues.labeled examples lack `installation`; GitHub Apps always receive it.
        out["installation"] = {"id": inst.id, "node_id": node_id("Installation", inst.id)}
    return out


def pull_request(
    sim: GitHubSimulator, repo: Repo, issue: Issue, action: str, sender: User
) -> dict[str, Any]:
    tpl = template("pull_request", action)
    # No published `closed` example is merged: the merged fields come from our state.
    pr = fill(tpl["pull_request"], sim.render.pull_request(repo, issue))
    return {
        "action": action,
        "number": issue.number,
        "pull_request": pr,
        **_common(sim, tpl, repo, sender),
    }


def issues(
    sim: GitHubSimulator,
    repo: Repo,
    issue: Issue,
    action: str,
    sender: User,
    label: Label | None = None,
) -> dict[str, Any]:
    tpl = template("issues", action)
    payload: dict[str, Any] = {
        "action": action,
        "issue": fill(tpl["issue"], sim.render.issue(repo, issue)),
    }
    if label is not None:
        payload["label"] = sim.render.label(repo, label)
    return {**payload, **_common(sim, tpl, repo, sender)}


def issue_comment(
    sim: GitHubSimulator, repo: Repo, issue: Issue, comment: Comment, action: str
) -> dict[str, Any]:
    tpl = template("issue_comment", action)
    return {
        "action": action,
        "issue": fill(tpl["issue"], sim.render.issue(repo, issue)),
        "comment": fill(tpl["comment"], sim.render.comment(comment)),
        **_common(sim, tpl, repo, comment.user),
    }


def _suite(sim: GitHubSimulator, repo: Repo, suite: CheckSuite, runs: int) -> dict[str, Any]:
    url = f"{sim.render.repo_api(repo)}/check-suites/{suite.id}"
    return {
        "id": suite.id,
        "node_id": node_id("CheckSuite", suite.id),
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": suite.status,
        "conclusion": suite.conclusion,
        "url": url,
        "before": suite.head_sha,
        "after": suite.head_sha,
        "pull_requests": [
            sim.render.pull_minimal(repo, i) for i in sim.open_pulls_at(repo, suite.head_sha)
        ],
        "app": sim.render.integration(suite.app_id),
        "created_at": suite.created_at,
        "updated_at": suite.updated_at,
        "latest_check_runs_count": runs,
        "check_runs_url": f"{url}/check-runs",
        "head_commit": {
            "id": suite.head_sha,
            "tree_id": repo.git.git("rev-parse", f"{suite.head_sha}^{{tree}}"),
            "message": repo.git.git("log", "-1", "--format=%B", suite.head_sha),
            "timestamp": suite.created_at,
            "author": {"name": "sim", "email": "sim@example.com"},
            "committer": {"name": "sim", "email": "sim@example.com"},
        },
    }


def check_suite(
    sim: GitHubSimulator, repo: Repo, suite: CheckSuite, action: str, sender: User
) -> dict[str, Any]:
    tpl = template("check_suite", action)
    runs = sum(r.suite is suite for r in repo.check_runs)
    return {
        "action": action,
        "check_suite": fill(tpl["check_suite"], _suite(sim, repo, suite, runs)),
        **_common(sim, tpl, repo, sender),
    }


def check_run(
    sim: GitHubSimulator, repo: Repo, run: CheckRun, action: str, sender: User
) -> dict[str, Any]:
    tpl = template("check_run", action)
    data = sim.render.check_run(repo, run, sim.open_pulls_at(repo, run.head_sha))
    runs = sum(r.suite is run.suite for r in repo.check_runs)
    data["check_suite"] = _suite(sim, repo, run.suite, runs)
    return {
        "action": action,
        "check_run": fill(tpl["check_run"], data),
        **_common(sim, tpl, repo, sender),
    }


def pull_request_review(
    sim: GitHubSimulator, repo: Repo, issue: Issue, review: Review, action: str
) -> dict[str, Any]:
    tpl = template("pull_request_review", action)
    data = sim.render.review(repo, issue, review)
    data["state"] = review.state.lower()  # webhooks say "approved" where REST says "APPROVED"
    return {
        "action": action,
        "review": fill(tpl["review"], data),
        "pull_request": fill(tpl["pull_request"], sim.render.pull_request(repo, issue)),
        **_common(sim, tpl, repo, review.user),
    }


def repository_ref(sim: GitHubSimulator, repo: Repo) -> dict[str, Any]:
    """The short repository form installation events list."""
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
    }


def installation(
    sim: GitHubSimulator, inst: Installation, action: str, sender: User
) -> dict[str, Any]:
    tpl = template("installation", action)
    payload: dict[str, Any] = {
        "action": action,
        "installation": fill(tpl["installation"], sim.render.installation(inst)),
    }
    if "repositories" in tpl:
        repos = [r for r in sim.state.repos.values() if inst.covers(r)]
        payload["repositories"] = [repository_ref(sim, r) for r in repos]
    if "requester" in tpl:
        payload["requester"] = None
    return {**payload, "sender": fill(tpl["sender"], sim.render.user(sender))}


def installation_repositories(
    sim: GitHubSimulator,
    inst: Installation,
    action: str,
    added: list[Repo],
    removed: list[Repo],
    sender: User,
) -> dict[str, Any]:
    tpl = template("installation_repositories", action)
    return {
        "action": action,
        "installation": fill(tpl["installation"], sim.render.installation(inst)),
        "repository_selection": inst.repository_selection,
        "repositories_added": [repository_ref(sim, r) for r in added],
        "repositories_removed": [repository_ref(sim, r) for r in removed],
        "requester": None,
        "sender": fill(tpl["sender"], sim.render.user(sender)),
    }
