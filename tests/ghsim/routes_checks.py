"""Check runs created and updated by the app, listed per ref, and their annotations."""

from __future__ import annotations

from typing import Any

from .core import HTTPError, Reply, Request, router
from .state import CheckRun, CheckSuite, Repo, SimState, now_iso

RUN = "/repos/{owner}/{repo}/check-runs/{check_run_id}"


def suite_for(state: SimState, repo: Repo, head_sha: str, app_id: int) -> CheckSuite:
    """The check suite of `app_id` for a commit (GitHub keeps one per app and commit)."""
    for suite in repo.check_suites:
        if suite.head_sha == head_sha and suite.app_id == app_id:
            return suite
    branch = next((b for b in repo.git.branches() if repo.git.branch_sha(b) == head_sha), None)
    suite = CheckSuite(state.new_id(), head_sha, branch, app_id)
    repo.check_suites.append(suite)
    return suite


def _apply(run: CheckRun, body: dict[str, Any]) -> None:
    for key in ("name", "details_url", "external_id", "started_at", "completed_at"):
        if key in body:
            setattr(run, key, body[key])
    if "status" in body:
        run.status = body["status"]
    if "conclusion" in body:
        run.conclusion = body["conclusion"]
        run.status = "completed"  # GitHub completes a run when a conclusion is given
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = now_iso()
    output = body.get("output")
    if output:
        run.output.update({k: output[k] for k in ("title", "summary", "text") if k in output})
        run.annotations.extend(output.get("annotations", []))


def _pulls(req: Request, repo: Repo, run: CheckRun) -> list[Any]:
    return [
        issue
        for issue in repo.issues.values()
        if issue.pull and issue.state == "open" and issue.pull.head_sha == run.head_sha
    ]


def render_run(req: Request, repo: Repo, run: CheckRun) -> dict[str, Any]:
    return req.sim.render.check_run(repo, run, _pulls(req, repo, run))


@router.route("POST", "/repos/{owner}/{repo}/check-runs")
async def create_check_run(req: Request) -> Reply:
    repo = req.repo()
    head_sha = req.field("head_sha")
    if repo.git.rev_parse(head_sha) is None:
        error = {"resource": "CheckRun", "field": "head_sha", "code": "invalid"}
        raise HTTPError(422, "Validation Failed", [error])
    app_id = req.sim.app.id
    suite = suite_for(req.sim.state, repo, head_sha, app_id)
    run = CheckRun(req.sim.state.new_id(), req.field("name"), head_sha, suite, app_id)
    _apply(run, req.body)
    repo.check_runs.append(run)
    req.sim.state.check_runs[run.id] = run
    return Reply(201, render_run(req, repo, run))


def _run(req: Request, repo: Repo) -> CheckRun:
    run = req.sim.state.check_runs.get(req.param_int("check_run_id"))
    if run is None or run not in repo.check_runs:
        raise HTTPError(404, "Not Found")
    return run


@router.route("PATCH", RUN)
async def update_check_run(req: Request) -> Reply:
    repo = req.repo()
    run = _run(req, repo)
    _apply(run, req.body)
    return Reply(200, render_run(req, repo, run))


@router.route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
async def list_check_runs(req: Request) -> Reply:
    repo = req.repo()
    ref = req.params["ref"]
    sha = repo.git.rev_parse(ref) or repo.git.rev_parse(f"refs/heads/{ref}")
    if sha is None:
        raise HTTPError(422, f"No commit found for SHA: {ref}")
    runs = [r for r in repo.check_runs if r.head_sha == sha]
    if name := req.query.get("check_name"):
        runs = [r for r in runs if r.name == name]
    if status := req.query.get("status"):
        runs = [r for r in runs if r.status == status]
    if app_id := req.query.get("app_id"):
        runs = [r for r in runs if str(r.app_id) == app_id]
    runs.sort(key=lambda r: -r.id)
    page = req.paginate([render_run(req, repo, r) for r in runs])
    page.body = {"total_count": len(runs), "check_runs": page.body}
    return page


@router.route("GET", RUN + "/annotations")
async def list_annotations(req: Request) -> Reply:
    repo = req.repo()
    run = _run(req, repo)
    return req.paginate([req.sim.render.annotation(repo, run, a) for a in run.annotations])
