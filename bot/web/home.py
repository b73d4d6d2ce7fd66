"""`GET /`: what this server is, whether it is configured, what to do next and what it did in
the last 24 hours. HTML for a browser (`Accept: text/html`), plain text otherwise (`curl`);
both from the templates in `bot/web/templates/`, neither with a script or an outside asset.

Whether the app counts as configured is decided by the caller (`health.setup_needed`); this
module only shows it. Activity is read with two grouped counts in one short read-only session,
bounded in time: the page answers even when the database does not. The page is open to
whoever reaches the server, so with METRICS_TOKEN set (the operator keeps the figures to
authenticated scrapes) it shows no counts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from sqlalchemy import func, select

from bot.core.repo_config import RepoConfig
from bot.settings import Settings
from bot.store.db import SessionFactory
from bot.store.models import Delivery, Job, utcnow
from bot.web.templating import render

ACTIVITY_WINDOW = timedelta(hours=24)
ACTIVITY_TIMEOUT_SECONDS = 2.0
WEBHOOK_PATH = "/webhooks/github"
PRIVATE = "see issuewright_deliveries_total and issuewright_queue_depth on /metrics"


@dataclass(frozen=True)
class Step:
    """One thing to do next; `href` is where to do it, when there is such a place."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    note: str = ""


@dataclass(frozen=True)
class Activity:
    deliveries: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def rows(self) -> list[tuple[str, int, str]]:
        """(what, total, "2 done, 1 ignored") for deliveries and jobs."""
        return [
            (name, sum(counts.values()), ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
            for name, counts in (("deliveries", self.deliveries), ("jobs", self.jobs))
        ]


async def recent_activity(sessions: SessionFactory | None) -> Activity:
    """Deliveries received and jobs created in the last 24 hours, by status. Reads only:
    never creates a table or a row, and says why when it cannot read."""
    if sessions is None:
        return Activity(error="the database is not open")
    since = utcnow() - ACTIVITY_WINDOW
    try:
        async with asyncio.timeout(ACTIVITY_TIMEOUT_SECONDS), sessions() as session:
            deliveries = await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.received_at >= since)
                .group_by(Delivery.status)
            )
            jobs = await session.execute(
                select(Job.status, func.count()).where(Job.created_at >= since).group_by(Job.status)
            )
            return Activity(
                {str(s): int(n) for s, n in deliveries.all()},
                {str(s): int(n) for s, n in jobs.all()},
            )
    except Exception as exc:  # a timeout included: the page answers, it never raises
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        return Activity(error=f"cannot read the database ({reason}); see /readyz")


def install_url(settings: Settings) -> str:
    return f"{settings.github_web_url}/apps/{quote(settings.app_slug)}/installations/new"


def next_steps(
    settings: Settings, needed: list[str], *, setup_served: bool, activity: Activity
) -> list[Step]:
    """What the operator should do now, most useful first."""
    if needed:
        steps = []
        if setup_served:
            steps.append(
                Step(
                    "Register the GitHub App in one click: open /setup and enter the one-time "
                    "setup code the server printed on its console",
                    "/setup",
                )
            )
        steps.append(Step(f"Set {', '.join(needed)} (environment or .env) and restart the server"))
        if not settings.webhook_secret:
            steps.append(
                Step(
                    f"Until WEBHOOK_SECRET is set, POST {WEBHOOK_PATH} answers 503: a delivery "
                    "is never accepted unsigned"
                )
            )
        else:
            steps.append(
                Step(
                    f"Deliveries to POST {WEBHOOK_PATH} are verified and stored already; "
                    "nothing acts on GitHub until the settings above are set"
                )
            )
        return steps
    steps = [
        Step("Install the app on the repositories it should work on", install_url(settings)),
        Step(
            f'Label an issue "{RepoConfig().trigger_label}" to have it turned into pull '
            "requests (a repository can name another label in .github/issuewright.yml)"
        ),
    ]
    if activity.error is None and not activity.deliveries:
        steps.append(
            Step(
                "No delivery in the last 24 hours: check that the App's webhook URL is "
                f"{webhook_url(settings)} and look at its Recent Deliveries in GitHub"
            )
        )
    return steps


def webhook_url(settings: Settings) -> str:
    base = (settings.public_url or "").rstrip("/")
    return f"{base}{WEBHOOK_PATH}" if base else WEBHOOK_PATH


def links(request: Request[Any, Any, Any]) -> list[Link]:
    state = request.app.state
    paths = {route.path for route in request.app.routes}
    found = [
        Link("/readyz", "Readiness", "database, migrations, a worker alive"),
        Link("/healthz", "Health", "the process is up"),
        Link("/schema", "API", "every route and its answers; /schema/openapi.json"),
        Link("/dashboard", "Dashboard", "tasks, attempts and jobs, after logging in with GitHub"),
    ]
    if "/metrics" in paths and getattr(state, "metrics", None) is not None:
        token = "; needs the METRICS_TOKEN bearer token" if state.settings.metrics_token else ""
        found.append(Link("/metrics", "Metrics", f"Prometheus{token}"))
    return found


async def home_page(request: Request[Any, Any, Any], needed: list[str]) -> Response[str]:
    state = request.app.state
    settings: Settings = state.settings
    if settings.metrics_token:  # the operator keeps the figures private: so does this page
        activity = Activity(error=f"not shown here while METRICS_TOKEN is set: {PRIVATE}")
    else:
        activity = await recent_activity(getattr(state, "sessions", None))
    setup_served = any(route.path == "/setup" for route in request.app.routes)
    context = {
        "needed": needed,
        "settings": settings,
        "install_url": install_url(settings),
        "webhook_url": webhook_url(settings),
        "steps": next_steps(settings, needed, setup_served=setup_served, activity=activity),
        "activity": activity,
        "links": links(request),
    }
    accepted = request.accept.best_match([MediaType.TEXT, MediaType.HTML], default=MediaType.TEXT)
    html = accepted == MediaType.HTML
    return Response(
        render("home.html.j2" if html else "home.txt.j2", **context),
        media_type=MediaType.HTML if html else MediaType.TEXT,
        headers={"Vary": "Accept", "Cache-Control": "no-store"},
    )
