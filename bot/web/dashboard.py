"""`/dashboard`: installations → repositories → issue runs → tasks → attempts, the month's
spend per installation against its cap, and the jobs and deliveries with a replay button for
dead jobs. Server-rendered (`web/templates/dashboard_*.html.j2`), no script, nothing from
another host; a page showing work in progress reloads itself (`<meta http-equiv=refresh>`).

Nothing is shown without a login (`dashboard_login.py`), and each page shows only what the
person may push to on GitHub (`core/dashboard_access.py`); anything else is a 404, the same
answer as for a row that does not exist."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from bot.core.dashboard_access import Viewer, page_is_live
from bot.settings import Settings
from bot.store.dead_jobs import requeue_dead_job
from bot.store.models import Job
from bot.web import dashboard_data as data
from bot.web.dashboard_login import LOGIN_ROUTES, login_page, page
from bot.web.dashboard_session import check_csrf, csrf_token, session_middleware, viewer

REFRESH_SECONDS = 5
JOB_STATUSES = ("queued", "running", "done", "dead", "cancelled")


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    who = viewer(request)
    if who is None:
        raise NotFoundException()  # only reached through a page that checked; see _show
    return who


def _show(
    request: Request[Any, Any, Any], template: str, *, live: bool = False, **context: Any
) -> Response[str]:
    settings = _settings(request)
    return page(
        template,
        viewer=_viewer(request),
        csrf=csrf_token(request),
        refresh=REFRESH_SECONDS if live else False,
        web_url=settings.github_web_url,
        public_url=settings.public_url,
        cap_usd=settings.installation_monthly_budget_usd,
        **context,
    )


def _guard(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """The login page when nobody is logged in (or the session expired), else None."""
    if viewer(request) is not None:
        return None
    settings = _settings(request)
    if request.url.path.rstrip("/") == "/dashboard" or "session" not in request.scope:
        return login_page(settings)
    return Redirect("/dashboard", status_code=303)


def _sessions(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.sessions


@get(["/", ""], summary="Dashboard: installations and their spend", status_code=200)
async def home(request: Request[Any, Any, Any]) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    async with _sessions(request)() as session:
        rows = await data.installations(session, _viewer(request))
    return _show(request, "dashboard_home.html.j2", installations=rows)


@get(
    "/installations/{installation_id:int}",
    summary="An installation's repositories",
    status_code=200,
)
async def installation_page(
    request: Request[Any, Any, Any], installation_id: FromPath[int]
) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    who = _viewer(request)
    async with _sessions(request)() as session:
        found = await data.installation(session, who, installation_id)
        if found is None:
            raise NotFoundException()
        repos = await data.repositories(session, who, installation_id)
        spent = (await data.spend_by_installation(session)).get(installation_id, 0.0)
    return _show(
        request,
        "dashboard_installation.html.j2",
        installation=found,
        repositories=repos,
        spent=spent,
    )


@get("/repositories/{repository_id:int}", summary="A repository's issue runs", status_code=200)
async def repository_page(
    request: Request[Any, Any, Any], repository_id: FromPath[int]
) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    async with _sessions(request)() as session:
        repo = await data.repository(session, _viewer(request), repository_id)
        if repo is None:
            raise NotFoundException()
        runs = await data.runs(session, repository_id)
    live = any(page_is_live(states) for _, states in runs)
    return _show(request, "dashboard_repository.html.j2", live=live, repository=repo, runs=runs)


@get("/runs/{run_id:int}", summary="An issue run's tasks", status_code=200)
async def run_page(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    async with _sessions(request)() as session:
        found = await data.run_with_tasks(session, _viewer(request), run_id)
    if found is None:
        raise NotFoundException()
    run, tasks = found
    live = page_is_live({row.task.state: 1 for row in tasks})
    return _show(request, "dashboard_run.html.j2", live=live, run=run, tasks=tasks)


@get(
    "/attempts/{attempt_id:int}",
    summary="One attempt: prompt, answer, diff, refusals",
    status_code=200,
)
async def attempt_page(request: Request[Any, Any, Any], attempt_id: FromPath[int]) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    async with _sessions(request)() as session:
        found = await data.attempt_detail(session, _viewer(request), attempt_id)
    if found is None:
        raise NotFoundException()
    attempt, task, record = found
    return _show(
        request,
        "dashboard_attempt.html.j2",
        live=attempt.outcome == "running",
        attempt=attempt,
        task=task,
        record=record,
    )


@get("/jobs", summary="Jobs and deliveries, with replay for dead jobs", status_code=200)
async def jobs_page(
    request: Request[Any, Any, Any], status: FromQuery[str | None] = None
) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    wanted = status if status in JOB_STATUSES else None
    async with _sessions(request)() as session:
        jobs, deliveries = await data.jobs_and_deliveries(session, _viewer(request), wanted)
    live = any(j.status in ("queued", "running") for j in jobs)
    return _show(
        request,
        "dashboard_jobs.html.j2",
        live=live,
        jobs=jobs,
        deliveries=deliveries,
        status=wanted,
        statuses=JOB_STATUSES,
    )


@post("/jobs/{job_id:int}/replay", summary="Queue a dead job again", status_code=303)
async def replay_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[Any]:
    if (refused := _guard(request)) is not None:
        return refused
    await check_csrf(request)
    who = _viewer(request)
    async with _sessions(request)() as session:
        job = await session.get(Job, job_id)
        if job is None or not await data.job_visible(session, who, job):
            raise NotFoundException()
    await requeue_dead_job(_sessions(request), job_id)
    return Redirect("/dashboard/jobs", status_code=303)


def dashboard_router(settings: Settings) -> Router:
    """The dashboard's routes under /dashboard, with the session cookie when OAuth is set up."""
    return Router(
        path="/dashboard",
        route_handlers=[
            home,
            installation_page,
            repository_page,
            run_page,
            attempt_page,
            jobs_page,
            replay_job,
            *LOGIN_ROUTES,
        ],
        middleware=session_middleware(settings),
    )
