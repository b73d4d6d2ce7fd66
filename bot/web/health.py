"""`GET /` (what to configure; the page is `home.py`), `/healthz` (process up) and `/readyz`
(ready for work)."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy import func, select, text

from bot.settings import Settings
from bot.store.migrate import current_revision, head_revision
from bot.store.models import WorkerBeat, aware, utcnow
from bot.web.home import home_page

WORKER_STALE_AFTER = timedelta(seconds=60)
READY_TIMEOUT_SECONDS = 5.0
CHECKS = ("database", "migrations", "worker")
# The migration scripts cannot change while the process runs; reading them once spares every
# probe a walk over the versions directory.
_head_revision = functools.cache(head_revision)


def setup_needed(settings: Settings) -> list[str]:
    """What the server still needs before it can act on GitHub, one entry per setting to set
    or fix; empty means configured. The one place `GET /` decides which it is."""
    return settings.missing


@get(
    "/",
    media_type=MediaType.HTML,
    summary="What this server is and needs",
    description="Configuration state, what to do next and the last 24 hours' deliveries and "
    "jobs: HTML when the request accepts text/html, plain text otherwise.",
)
async def index(request: Request[Any, Any, Any]) -> Response[str]:
    return await home_page(request, setup_needed(request.app.state.settings))


@get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Database reachable, migrations current, a worker alive",
    responses={
        503: ResponseSpec(
            dict[str, Any],
            generate_examples=False,
            description='Not ready: each check that is not "ok" says what is wrong',
        )
    },
)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 only when all three checks say "ok"; otherwise 503 and each field says what is
    wrong. Bounded in time: a probe must get an answer even when the database hangs."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await _check(state, checks)
    except Exception as exc:  # a timeout included: readiness answers, it never raises
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        failed = next((name for name in CHECKS if name not in checks), "worker")
        if failed == "database":
            checks["database"] = f"unreachable ({reason}); check DATABASE_URL"
        else:
            checks[failed] = f"cannot be checked ({reason})"
    for name in CHECKS:
        checks.setdefault(name, "not checked: the database is not ready")
    ready = all(checks[name] == "ok" for name in CHECKS)
    return Response({"ready": ready, **checks}, status_code=200 if ready else 503)


async def _check(state: Any, checks: dict[str, str]) -> None:
    """Fills `checks` in order; stops early when a later check cannot mean anything."""
    async with state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    checks["database"] = "ok"
    current, head = await current_revision(state.engine), _head_revision()
    if current != head:
        checks["migrations"] = f"at {current}, need {head}: run `issuewright db upgrade`"
        return  # the worker table may not exist yet
    checks["migrations"] = "ok"
    async with state.sessions() as session:
        last_beat = aware((await session.execute(select(func.max(WorkerBeat.beat_at)))).scalar())
    alive = last_beat is not None and utcnow() - last_beat < WORKER_STALE_AFTER
    checks["worker"] = "ok" if alive else "no worker heartbeat in the last minute"
