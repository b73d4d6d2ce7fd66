"""Prometheus metrics: `GET /metrics`.

Counters and histograms are updated where things happen (webhook receiver, worker, LLM
calls, GitHub client). Queue depth, queue age and tasks by state are read from the database
at scrape time instead: the database is the source of truth shared by every process (a
separate `issuewright worker` never touches this process's counters), so a gauge kept in
memory would be wrong as soon as a second process runs.

Each `Metrics` owns its own `CollectorRegistry`, never the global one, so several apps in
one process (tests) do not collide on metric names.

Every label value comes from a fixed set or from the operator's configuration, never from
what a delivery, an LLM endpoint or a database row says: anything else is counted as
`other`, so nobody outside the server can grow the number of series (each one is memory
kept for the life of the process and in every scrape). With METRICS_TOKEN set, a scrape
needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Iterable
from typing import Any

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.core.metric_labels import (
    DELIVERY_OUTCOMES,
    GITHUB_EVENTS,
    JOB_KINDS,
    JOB_OUTCOMES,
    UNKNOWN_MODEL,
    WEBHOOK_REJECTIONS,
    bounded,
)
from bot.github import rate_limit_monitor
from bot.llm.pricing import DEFAULT_PRICES
from bot.ops.metrics_db import DatabaseCollector, read_snapshot
from bot.store.db import SessionFactory

log = logging.getLogger(__name__)

# Litestar adds `; charset=utf-8` to text types itself: give the type without it, once.
EXPOSITION_TYPE = CONTENT_TYPE_LATEST.split("; charset=")[0]
# Jobs range from milliseconds (routing a delivery) to many minutes (an LLM attempt with a
# push), so the buckets span both ends.
JOB_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class Metrics:
    """Everything `/metrics` exports. One per app (or per worker process).

    `events`, `job_kinds` and `models` widen the fixed label sets with what this server is
    configured for (the router's events and job kinds, the operator's models)."""

    def __init__(
        self,
        *,
        events: Iterable[str] = (),
        job_kinds: Iterable[str] = (),
        models: Iterable[str] = (),
    ) -> None:
        self.events = GITHUB_EVENTS | frozenset(events)
        self.job_kinds = JOB_KINDS | frozenset(job_kinds)
        self.models = frozenset(DEFAULT_PRICES) | frozenset(m for m in models if m)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._deliveries = Counter(
            "issuewright_deliveries_total",
            "Webhook deliveries received, by event and outcome",
            ["event", "outcome"],
            registry=r,
        )
        self._job_seconds = Histogram(
            "issuewright_job_seconds",
            "Wall time of one job run, by kind",
            ["kind"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=r,
        )
        self._jobs = Counter(
            "issuewright_jobs_total",
            "Job runs, by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self._tokens = Counter(
            "issuewright_llm_tokens_total",
            "LLM tokens, by model and direction (input/output)",
            ["model", "direction"],
            registry=r,
        )
        self._cost = Counter(
            "issuewright_llm_cost_usd_total",
            "LLM spend in US dollars, by model",
            ["model"],
            registry=r,
        )
        self._rejected = Counter(
            "issuewright_webhook_rejected_total",
            "Webhook deliveries refused before they were stored, by reason",
            ["reason"],
            registry=r,
        )
        for reason in WEBHOOK_REJECTIONS:  # every reason at 0, so an alert sees the series
            self._rejected.labels(reason=reason)
        # Registered on the first value GitHub sends: before that there is no series at all,
        # since any number (0 included) would claim something GitHub never said.
        self._rate_limit: Gauge | None = None
        self._database = DatabaseCollector()
        r.register(self._database)
        # Two concurrent scrapes must not render one's snapshot half-replaced by the other's.
        self._lock = asyncio.Lock()

    # ---------------------------------------------------------------- call sites

    def delivery(self, event: str, outcome: str) -> None:
        self._deliveries.labels(
            event=bounded(event, self.events), outcome=bounded(outcome, DELIVERY_OUTCOMES)
        ).inc()

    def job_finished(self, kind: str, seconds: float, outcome: str) -> None:
        kind = bounded(kind, self.job_kinds)
        self._job_seconds.labels(kind=kind).observe(max(0.0, seconds))
        self._jobs.labels(kind=kind, outcome=bounded(outcome, JOB_OUTCOMES)).inc()

    def llm_call(
        self, model: str | None, input_tokens: int, output_tokens: int, cost: float
    ) -> None:
        """`model` is the configured model of the call, never the one the endpoint's answer
        names (an endpoint could name a new one in every answer)."""
        name = bounded(model, self.models) if model else UNKNOWN_MODEL
        # Counters only go up; a provider reporting nothing (or garbage) must not raise here.
        self._tokens.labels(model=name, direction="input").inc(max(0, input_tokens or 0))
        self._tokens.labels(model=name, direction="output").inc(max(0, output_tokens or 0))
        self._cost.labels(model=name).inc(max(0.0, cost or 0.0))

    def webhook_rejected(self, reason: str) -> None:
        self._rejected.labels(reason=bounded(reason, WEBHOOK_REJECTIONS)).inc()

    def rate_limit(self, remaining: int | float) -> None:
        if self._rate_limit is None:
            self._rate_limit = Gauge(
                "issuewright_github_rate_limit_remaining",
                "GitHub API requests remaining in the current window (last response seen)",
                registry=self.registry,
            )
        self._rate_limit.set(remaining)

    # ---------------------------------------------------------------- exposition

    async def render(self, sessions: SessionFactory | None) -> bytes:
        """Refresh the database gauges, then the text exposition format."""
        async with self._lock:
            snapshot = None
            if sessions is not None:
                try:
                    snapshot = await read_snapshot(sessions)
                except Exception as exc:
                    # A scrape must still answer (with database_up 0) so the outage is visible.
                    log.warning("metrics: cannot read the database: %s", exc)
            self._database.snapshot = snapshot
            return generate_latest(self.registry)


def metrics_for(settings: Any, router: Any = None) -> Metrics:
    """The app's Metrics, its label sets widened by what this server is configured for."""
    models = [getattr(settings, "llm_model", None)]
    models += [name for name, *_ in getattr(settings, "llm_pricing_overrides", ())]
    for endpoint in getattr(settings, "llm_endpoints", ()):  # the operator's allowed models
        models += [endpoint.default_model, *(m for m in endpoint.models if m != "*")]
    return Metrics(
        events=router.handled_events() if router is not None else (),
        job_kinds=router.job_kinds() if router is not None else (),
        models=[m for m in models if m],
    )


def authorized(token: str | None, header: str | None) -> bool:
    """No token configured: open. Else `Authorization: Bearer <token>`, compared in constant
    time as bytes (a header may hold any latin-1 character; compare_digest raises on
    non-ASCII str)."""
    if not token:
        return True
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Digests of both sides: equal lengths, so not even the token's length shows in timing.
    return hmac.compare_digest(
        hashlib.sha256(given.strip().encode("utf-8", "replace")).digest(),
        hashlib.sha256(token.encode("utf-8", "replace")).digest(),
    )


@get(
    "/metrics",
    summary="Prometheus metrics",
    description="The text exposition format. With METRICS_TOKEN set, a scrape sends "
    "`Authorization: Bearer <token>`.",
    media_type=EXPOSITION_TYPE,
    responses={
        401: ResponseSpec(None, description="METRICS_TOKEN is set and the request lacks it"),
        404: ResponseSpec(None, description="This app was built without metrics"),
    },
)
async def metrics_route(request: Request[Any, Any, Any]) -> Response[bytes]:
    state = request.app.state
    token = getattr(getattr(state, "settings", None), "metrics_token", None)
    if not authorized(token, request.headers.get("authorization")):
        return Response(
            b"401 Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    metrics: Metrics | None = getattr(state, "metrics", None)
    if metrics is None:
        return Response(b"metrics are not enabled\n", status_code=404, media_type="text/plain")
    remaining = github_rate_limit_remaining(getattr(state, "ctx", None))
    if remaining is not None:
        metrics.rate_limit(remaining)
    body = await metrics.render(getattr(state, "sessions", None))
    return Response(body, media_type=EXPOSITION_TYPE)


def github_rate_limit_remaining(ctx: Any) -> int | None:
    """The last `x-ratelimit-remaining` GitHub sent this process, read at scrape time from
    the App client's monitor (shared by its installation clients). None before any GitHub
    response or without credentials: the gauge then keeps its last value, or is not
    exported at all before the first one, instead of a made-up one."""
    access = getattr(ctx, "github", None)
    if access is None:
        return None
    monitor = rate_limit_monitor(access.app_github)
    return monitor.remaining if monitor is not None else None


def metrics_routes() -> list[Any]:
    """Route handlers to pass to `create_app(extra_routes=...)`."""
    return [metrics_route]
