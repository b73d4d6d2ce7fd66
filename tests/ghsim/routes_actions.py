"""GitHub Actions job logs: `GET …/actions/jobs/{job_id}/logs` answers 302 to a log host,
as GitHub does; the log text is set by tests with `sim.job_logs[check_run_id] = text`
(for Actions, a check run's id is its job's id)."""

from __future__ import annotations

from .core import Reply, Request, router


@router.route("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs")
async def download_job_logs(req: Request) -> Reply:
    from .app import LOG_HOST

    req.repo()
    # The description declares only the 302; a missing log is the log host's 404.
    job_id = req.param_int("job_id")
    return Reply(302, None, {"Location": f"https://{LOG_HOST}/logs/{job_id}"})
