"""Repositories, file contents, collaborator permissions, refs, and the App endpoints."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from .core import HTTPError, Reply, Request, router
from .state import LEGACY_PERMISSION


@router.route("GET", "/repos/{owner}/{repo}")
async def get_repo(req: Request) -> Reply:
    return Reply(200, req.sim.render.repository(req.repo()))


@router.route("GET", "/repos/{owner}/{repo}/contents/{path}")
async def get_content(req: Request) -> Reply:
    repo = req.repo()
    ref = req.query.get("ref") or repo.default_branch
    path = req.params["path"].strip("/")
    found = repo.git.read_file(ref, path)
    if found is None:
        # Directories, symlinks and submodules are not simulated: the bot reads files only.
        raise HTTPError(404, "Not Found")
    data, sha = found
    return Reply(200, req.sim.render.content_file(repo, path, ref, data, sha))


@router.route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
async def get_permission(req: Request) -> Reply:
    repo = req.repo()
    login = req.params["username"]
    user = req.sim.state.users.get(login)
    if user is None:
        raise HTTPError(404, f"{login} is not a user")
    if login == repo.owner.login:
        role = "admin"
    else:
        # A stranger can read a public repository, nothing of a private one.
        role = repo.permissions.get(login, "none" if repo.private else "read")
    collaborator = {**req.sim.render.user(user), "role_name": role}
    permission = LEGACY_PERMISSION[role]
    collaborator["permissions"] = {
        "admin": role == "admin",
        "maintain": role in {"admin", "maintain"},
        "push": role in {"admin", "maintain", "write"},
        "triage": role in {"admin", "maintain", "write", "triage"},
        "pull": role != "none",
    }
    return Reply(200, {"permission": permission, "role_name": role, "user": collaborator})


@router.route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}")
async def delete_ref(req: Request) -> Reply:
    repo = req.repo()
    ref = req.params["ref"]
    if not repo.git.ref_exists(ref):
        raise HTTPError(422, "Reference does not exist")
    repo.git.delete_ref(ref)
    return Reply(204)


# ------------------------------------------------------------------------- the App (JWT)


@router.route("GET", "/app", auth="app")
async def get_app(req: Request) -> Reply:
    return Reply(200, req.sim.render.integration())


@router.route("GET", "/app/installations/{installation_id}", auth="app")
async def get_installation(req: Request) -> Reply:
    inst = req.sim.state.installations.get(req.param_int("installation_id"))
    if inst is None:
        raise HTTPError(404, "Not Found")
    return Reply(200, req.sim.render.installation(inst))


@router.route("POST", "/app/installations/{installation_id}/access_tokens", auth="app")
async def create_access_token(req: Request) -> Reply:
    state = req.sim.state
    inst = state.installations.get(req.param_int("installation_id"))
    if inst is None:
        raise HTTPError(404, "Not Found")
    if inst.suspended_at is not None:
        raise HTTPError(403, "This installation has been suspended")
    token = f"ghs_{secrets.token_hex(18)}"
    state.tokens[token] = inst.id
    req.sim.tokens_issued.append(token)
    expires = datetime.now(UTC) + timedelta(hours=1)
    return Reply(
        201,
        {
            "token": token,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": dict(req.sim.app_permissions),
            "repository_selection": inst.repository_selection,
        },
    )
