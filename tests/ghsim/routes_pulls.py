"""Pull requests, review requests, reviews and review comments."""

from __future__ import annotations

from .core import HTTPError, Reply, Request, router
from .state import Issue, PullRequest, Repo, now_iso

PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"


def _branch(repo: Repo, spec: str) -> str:
    """`branch` or `owner:branch` (same-repository heads only: forks are not simulated)."""
    owner, sep, branch = spec.rpartition(":")
    if sep and owner.lower() != repo.owner.login.lower():
        raise HTTPError(422, "Validation Failed", [_invalid("head")])
    return branch


def _invalid(field: str) -> dict[str, str]:
    return {"resource": "PullRequest", "field": field, "code": "invalid"}


def open_pull_for(repo: Repo, head: str, base: str | None = None) -> Issue | None:
    for issue in repo.issues.values():
        pr = issue.pull
        if pr and issue.state == "open" and pr.head == head and base in (None, pr.base):
            return issue
    return None


def refresh_shas(repo: Repo, issue: Issue) -> None:
    """Read the head and base shas from the bare repository (kept once a branch is gone)."""
    pr = issue.pull
    assert pr is not None
    if issue.state == "open" or not pr.head_sha:
        pr.head_sha = repo.git.branch_sha(pr.head) or pr.head_sha
        pr.base_sha = repo.git.branch_sha(pr.base) or pr.base_sha


@router.route("POST", "/repos/{owner}/{repo}/pulls")
async def create_pull(req: Request) -> Reply:
    repo = req.repo()
    head, base = _branch(repo, req.field("head")), req.field("base")
    head_sha, base_sha = repo.git.branch_sha(head), repo.git.branch_sha(base)
    if head_sha is None:
        raise HTTPError(422, "Validation Failed", [_invalid("head")])
    if base_sha is None:
        raise HTTPError(422, "Validation Failed", [_invalid("base")])
    if open_pull_for(repo, head, base):
        message = f"A pull request already exists for {repo.owner.login}:{head}."
        raise HTTPError(
            422,
            "Validation Failed",
            [{"resource": "PullRequest", "code": "custom", "message": message}],
        )
    if repo.git.count_commits(base_sha, head_sha) == 0:
        message = f"No commits between {base} and {head}"
        raise HTTPError(
            422,
            "Validation Failed",
            [{"resource": "PullRequest", "code": "custom", "message": message}],
        )
    state = req.sim.state
    pr = PullRequest(
        state.new_id(),
        head,
        base,
        draft=bool(req.field("draft", False)),
        maintainer_can_modify=bool(req.field("maintainer_can_modify", True)),
    )
    issue = Issue(
        state.new_id(),
        repo.next_number(),
        req.field("title"),
        req.field("body"),
        req.sim.bot,
        pull=pr,
    )
    repo.issues[issue.number] = issue
    refresh_shas(repo, issue)
    req.sim.queue_pull_request_event(repo, issue, "opened", sender=req.sim.bot)
    return Reply(201, req.sim.render.pull_request(repo, issue))


@router.route("GET", "/repos/{owner}/{repo}/pulls")
async def list_pulls(req: Request) -> Reply:
    repo = req.repo()
    wanted_state = req.query.get("state", "open")
    head = _branch(repo, req.query["head"]) if req.query.get("head") else None
    base = req.query.get("base")
    found = []
    for issue in sorted(repo.issues.values(), key=lambda i: -i.number):
        pr = issue.pull
        if pr is None or wanted_state not in {"all", issue.state}:
            continue
        if (head and pr.head != head) or (base and pr.base != base):
            continue
        refresh_shas(repo, issue)
        found.append(req.sim.render.pull_request(repo, issue))
    return req.paginate(found)


@router.route("GET", PULL)
async def get_pull(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo, "pull_number", pull=True)
    refresh_shas(repo, issue)
    return Reply(200, req.sim.render.pull_request(repo, issue))


@router.route("PATCH", PULL)
async def update_pull(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo, "pull_number", pull=True)
    pr = issue.pull
    assert pr is not None
    for key in ("title", "body"):
        if key in req.body:
            setattr(issue, key, req.body[key])
    if "base" in req.body:
        if repo.git.branch_sha(req.body["base"]) is None:
            raise HTTPError(422, "Validation Failed", [_invalid("base")])
        pr.base = req.body["base"]
    new_state = req.field("state")
    closing = new_state == "closed" and issue.state == "open"
    if new_state in {"open", "closed"} and new_state != issue.state and not pr.merged:
        issue.state = new_state
        issue.closed_at = now_iso() if new_state == "closed" else None
    issue.updated_at = now_iso()
    refresh_shas(repo, issue)
    if closing:
        req.sim.queue_pull_request_event(repo, issue, "closed", sender=req.sim.bot)
    return Reply(200, req.sim.render.pull_request(repo, issue))


@router.route("POST", PULL + "/requested_reviewers")
async def request_reviewers(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo, "pull_number", pull=True)
    pr = issue.pull
    assert pr is not None
    for login in req.field("reviewers", []):
        user = req.sim.state.users.get(login)
        if user is None or repo.permissions.get(login, "none") == "none":
            error = "Reviews may only be requested from collaborators."
            raise HTTPError(422, error)
        if user not in pr.requested_reviewers:
            pr.requested_reviewers.append(user)
    refresh_shas(repo, issue)
    return Reply(201, req.sim.render.pull_request(repo, issue))


@router.route("GET", PULL + "/reviews")
async def list_reviews(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo, "pull_number", pull=True)
    assert issue.pull is not None
    return req.paginate([req.sim.render.review(repo, issue, r) for r in issue.pull.reviews])


@router.route("GET", PULL + "/comments")
async def list_review_comments(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo, "pull_number", pull=True)
    assert issue.pull is not None
    render = req.sim.render
    return req.paginate([render.review_comment(repo, issue, c) for c in issue.pull.review_comments])
