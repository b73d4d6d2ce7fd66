"""What a signed-in person's user token reads: `GET /user`, `GET /user/installations` and
`GET /user/installations/{installation_id}/repositories` (auth "user": a token the OAuth web
flow in `oauth_web.py` issued). As GitHub documents, both lists hold only what the person has
explicit permission to (owner, or a collaborator with any role); each repository carries that
person's `permissions`."""

from __future__ import annotations

from typing import Any

from .core import HTTPError, Reply, Request, router
from .state import Installation, Repo, User


def role_of(repo: Repo, user: User) -> str:
    if user.login == repo.owner.login:
        return "admin"
    return repo.permissions.get(user.login, "none")


def permissions_of(role: str) -> dict[str, bool]:
    return {
        "admin": role == "admin",
        "maintain": role in {"admin", "maintain"},
        "push": role in {"admin", "maintain", "write"},
        "triage": role in {"admin", "maintain", "write", "triage"},
        "pull": role != "none",
    }


def visible_repos(req: Request, inst: Installation, user: User) -> list[Repo]:
    repos = [r for r in req.sim.state.repos.values() if inst.covers(r)]
    return sorted((r for r in repos if role_of(r, user) != "none"), key=lambda r: r.id)


def _user(req: Request) -> User:
    assert req.user is not None  # set by the "user" authentication
    return req.user


@router.route("GET", "/user", auth="user")
async def get_authenticated_user(req: Request) -> Reply:
    user = _user(req)
    data = req.sim.render._retarget(req.sim.render.user(user))
    data.update(
        name=None,
        company=None,
        blog="",
        location=None,
        email=None,
        hireable=None,
        bio=None,
        public_repos=0,
        public_gists=0,
        followers=0,
        following=0,
        created_at="2020-01-01T00:00:00Z",
        updated_at="2020-01-01T00:00:00Z",
    )
    return Reply(200, data)


@router.route("GET", "/user/installations", auth="user")
async def list_user_installations(req: Request) -> Reply:
    user = _user(req)
    found = [
        req.sim.render.installation(inst)
        for inst in sorted(req.sim.state.installations.values(), key=lambda i: i.id)
        if visible_repos(req, inst, user)
    ]
    page = req.paginate(found)
    return Reply(200, {"total_count": len(found), "installations": page.body}, page.headers)


@router.route("GET", "/user/installations/{installation_id}/repositories", auth="user")
async def list_user_installation_repos(req: Request) -> Reply:
    user = _user(req)
    inst = req.sim.state.installations.get(req.param_int("installation_id"))
    repos = visible_repos(req, inst, user) if inst is not None else []
    if inst is None or not repos:
        raise HTTPError(404, "Not Found")
    found: list[dict[str, Any]] = []
    for repo in repos:
        data = req.sim.render.repository(repo)
        data["permissions"] = permissions_of(role_of(repo, user))
        found.append(data)
    page = req.paginate(found)
    body = {
        "total_count": len(found),
        "repository_selection": inst.repository_selection,
        "repositories": page.body,
    }
    return Reply(200, body, page.headers)
