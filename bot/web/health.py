"""`GET /` (what to configure), `/healthz` (process up) and `/readyz` (ready for work)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import MediaType, Request, Response, get
from sqlalchemy import func, select, text

from bot.store.migrate import current_revision, head_revision
from bot.store.models import WorkerBeat, aware, utcnow

WORKER_STALE_AFTER = timedelta(seconds=60)


@get("/", media_type=MediaType.TEXT, summary="What this server is and needs")
async def index(request: Request[Any, Any, Any]) -> str:
    settings = request.app.state.settings
    lines = ["Issuewright: labeled GitHub issues become pull requests.", ""]
    if settings.missing:
        lines += [
            "Not configured yet. Set these (environment or .env) and restart:",
            *[f"  - {name}" for name in settings.missing],
            "",
            "Or register the GitHub App in one click: open /setup on this server.",
            "Until WEBHOOK_SECRET is set, POST /webhooks/github answers 503.",
        ]
    else:
        lines.append(f"Configured as GitHub App {settings.app_id}. Webhooks: POST /webhooks/github")
    lines += ["", "Health: /healthz · Readiness: /readyz · API schema: /schema"]
    return "\n".join(lines) + "\n"


@get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Database reachable, migrations current, a worker alive")
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    state = request.app.state
    checks: dict[str, Any] = {}
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current = await current_revision(state.engine)
        head = head_revision()
        checks["migrations"] = (
            "ok" if current == head else f"at {current}, need {head}: run `issuewright db upgrade`"
        )
        async with state.sessions() as session:
            last_beat = aware(
                (await session.execute(select(func.max(WorkerBeat.beat_at)))).scalar()
            )
        alive = last_beat is not None and utcnow() - last_beat < WORKER_STALE_AFTER
        checks["worker"] = "ok" if alive else "no worker heartbeat in the last minute"
    except Exception as exc:
        checks.setdefault("database", f"unreachable ({type(exc).__name__})")
    ready = all(value == "ok" for value in checks.values()) and len(checks) == 3
    return Response({"ready": ready, **checks}, status_code=200 if ready else 503)
