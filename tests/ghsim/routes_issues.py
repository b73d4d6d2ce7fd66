"""Issues, issue comments, reactions and labels."""

from __future__ import annotations

from typing import Any

from .core import HTTPError, Reply, Request, router
from .state import Comment, Issue, Label, Reaction, Repo, SimState, now_iso

ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"
COMMENT = "/repos/{owner}/{repo}/issues/comments/{comment_id}"


def _comment(req: Request, repo: Repo) -> Comment:
    comment = req.sim.state.comments.get(req.param_int("comment_id"))
    if comment is None or comment.repo is not repo:
        raise HTTPError(404, "Not Found")
    return comment


@router.route("POST", ISSUE + "/comments")
async def create_comment(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo)
    comment = Comment(req.sim.state.new_id(), repo, issue.number, req.field("body"), req.sim.bot)
    issue.comments.append(comment)
    req.sim.state.comments[comment.id] = comment
    issue.updated_at = now_iso()
    return Reply(201, req.sim.render.comment(comment))


@router.route("GET", ISSUE + "/comments")
async def list_comments(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo)
    return req.paginate([req.sim.render.comment(c) for c in issue.comments])


@router.route("GET", COMMENT)
async def get_comment(req: Request) -> Reply:
    return Reply(200, req.sim.render.comment(_comment(req, req.repo())))


@router.route("PATCH", COMMENT)
async def update_comment(req: Request) -> Reply:
    comment = _comment(req, req.repo())
    comment.body = req.field("body")
    comment.updated_at = now_iso()
    return Reply(200, req.sim.render.comment(comment))


def _react(req: Request, reactions: list[Reaction]) -> Reply:
    content = req.field("content")
    user = req.sim.bot
    for existing in reactions:
        if existing.user is user and existing.content == content:
            return Reply(200, req.sim.render.reaction(existing))
    reaction = Reaction(req.sim.state.new_id(), user, content)
    reactions.append(reaction)
    return Reply(201, req.sim.render.reaction(reaction))


@router.route("POST", ISSUE + "/reactions")
async def react_to_issue(req: Request) -> Reply:
    repo = req.repo()
    return _react(req, req.issue(repo).reactions)


@router.route("POST", COMMENT + "/reactions")
async def react_to_comment(req: Request) -> Reply:
    return _react(req, _comment(req, req.repo()).reactions)


def ensure_label(state: SimState, repo: Repo, name: str, **fields: Any) -> Label:
    """The repository's label `name` (GitHub creates a missing label when it is applied)."""
    key = name.lower()
    if key not in repo.labels:
        repo.labels[key] = Label(state.new_id(), name, **fields)
    return repo.labels[key]


def _label_names(body: Any) -> list[str]:
    items = body.get("labels", []) if isinstance(body, dict) else body
    if isinstance(items, str):
        items = [items]
    return [item["name"] if isinstance(item, dict) else item for item in items]


@router.route("POST", ISSUE + "/labels")
async def add_labels(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo)
    for name in _label_names(req.body):
        label = ensure_label(req.sim.state, repo, name)
        if label not in issue.labels:
            issue.labels.append(label)
    return Reply(200, [req.sim.render.label(repo, label) for label in issue.labels])


@router.route("DELETE", ISSUE + "/labels/{name}")
async def remove_label(req: Request) -> Reply:
    repo = req.repo()
    issue = req.issue(repo)
    label = repo.labels.get(req.params["name"].lower())
    if label is None or label not in issue.labels:
        raise HTTPError(404, "Label does not exist")
    issue.labels.remove(label)
    return Reply(200, [req.sim.render.label(repo, label) for label in issue.labels])


@router.route("GET", "/repos/{owner}/{repo}/labels/{name}")
async def get_label(req: Request) -> Reply:
    repo = req.repo()
    label = repo.labels.get(req.params["name"].lower())
    if label is None:
        raise HTTPError(404, "Not Found")
    return Reply(200, req.sim.render.label(repo, label))


@router.route("POST", "/repos/{owner}/{repo}/labels")
async def create_label(req: Request) -> Reply:
    repo = req.repo()
    name = req.field("name")
    if name.lower() in repo.labels:
        error = {"resource": "Label", "code": "already_exists", "field": "name"}
        raise HTTPError(422, "Validation Failed", [error])
    label = ensure_label(
        req.sim.state,
        repo,
        name,
        color=req.field("color", "ededed").lstrip("#"),
        description=req.field("description"),
    )
    return Reply(201, req.sim.render.label(repo, label))


@router.route("GET", ISSUE)
async def get_issue(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.sim.render.issue(repo, req.issue(repo)))


@router.route("PATCH", ISSUE)
async def update_issue(req: Request) -> Reply:
    repo = req.repo()
    issue: Issue = req.issue(repo)
    for key in ("title", "body", "state_reason"):
        if key in req.body:
            setattr(issue, key, req.body[key])
    if "labels" in req.body:
        issue.labels = [
            ensure_label(req.sim.state, repo, n) for n in _label_names(req.body["labels"])
        ]
    if req.field("state") in {"open", "closed"} and req.field("state") != issue.state:
        issue.state = req.field("state")
        issue.closed_at = now_iso() if issue.state == "closed" else None
    issue.updated_at = now_iso()
    return Reply(200, req.sim.render.issue(repo, issue))
