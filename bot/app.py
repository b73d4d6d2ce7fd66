"""`create_app(settings)`: the Litestar app with its database, delivery writer and worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State

from bot.handlers import build_router
from bot.jobs.dispatch import Router
from bot.jobs.worker import Worker
from bot.ops.metrics import metrics_for, metrics_routes
from bot.runtime import HandlerContext
from bot.settings import Settings
from bot.store.db import make_engine, make_session_factory
from bot.store.ingest import DeliveryWriter
from bot.web.dashboard import dashboard_router
from bot.web.health import healthz, index, readyz
from bot.web.schema_page import openapi_config
from bot.web.webhooks import receive_webhook

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    router: Router | None = None,
    github: Any = None,
    llm_factory: Callable[..., Any] | None = None,
    run_worker: bool | None = None,
    extra_routes: list[Any] | None = None,
    on_startup: Sequence[Callable[[], Any]] = (),
) -> Litestar:
    """Build the app. Tests inject `github` (a GitHubAccess on the simulator) and
    `llm_factory`; the server builds the real ones from settings. `on_startup` runs once the
    app is up (the server prints /setup's one-time code there, after the warnings above it)."""
    router = router or build_router()
    metrics = metrics_for(settings, router)
    start_worker = settings.run_worker and settings.worker_concurrency > 0
    if run_worker is not None:
        start_worker = run_worker

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        access = github
        if access is None and settings.has_app_credentials:
            from bot.github.access import GitHubAccess

            access = GitHubAccess.from_settings(settings)
        ctx = HandlerContext(
            settings=settings,
            sessions=sessions,
            github=access,
            llm_factory=llm_factory,
            metrics=metrics,
        )
        writer = DeliveryWriter(
            engine,
            max_attempts=settings.job_max_attempts,
            wait_seconds=settings.webhook_store_wait_seconds,
        )
        writer.on_commit.append(ctx.wake)
        writer.start()
        worker = (
            Worker(ctx, router, concurrency=settings.worker_concurrency) if start_worker else None
        )
        app.state.update(engine=engine, sessions=sessions, writer=writer, ctx=ctx, worker=worker)
        if worker is not None:
            worker.start()
        if settings.missing:
            log.warning(
                "not configured yet: set %s (environment or .env), or open /setup to register "
                "the GitHub App%s",
                ", ".join(settings.missing),
                ""
                if settings.webhook_secret
                else "; webhooks answer 503 until WEBHOOK_SECRET is set",
            )
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await writer.stop()
            if access is not None and github is None:  # ours to close, not the caller's
                await access.aclose()
            await engine.dispose()

    return Litestar(
        route_handlers=[
            receive_webhook,
            index,
            healthz,
            readyz,
            *metrics_routes(),
            dashboard_router(settings),
            *(extra_routes or []),
        ],
        lifespan=[lifespan],
        on_startup=list(on_startup),
        state=State({"settings": settings, "router": router, "metrics": metrics}),
        openapi_config=openapi_config(title="Issuewright", version="0.1.0"),
        debug=False,
        logging_config=None,  # bot.logs configures logging (format, secret scrubbing)
    )
