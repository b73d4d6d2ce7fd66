"""`GET /metrics` through the real Litestar app, parsed with prometheus-client's own parser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.core.lifecycle import TaskState
from bot.jobs.dispatch import Router
from bot.ops.metrics import Metrics, metrics_routes
from bot.settings import Settings
from bot.store.db import SessionFactory, make_engine, make_session_factory
from bot.store.models import IssueRun, Job, Task, utcnow
from tests.conftest import make_settings
from tests.ingest.helpers import headers_for, load_payload

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(body: str) -> Samples:
    """Every sample as {(name, sorted labels): value}, via prometheus-client's parser."""
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            samples[s.name, tuple(sorted(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def add_history(sessions: SessionFactory) -> None:
    """Jobs in every queue status and tasks in a few states, with known counts."""
    now = utcnow()
    async with sessions() as session, session.begin():
        run = IssueRun(repository="o/r", issue_number=1, created_at=now)
        session.add(run)
        await session.flush()
        states = [TaskState.MERGED] * 2 + [TaskState.GENERATING] + [TaskState.FAILED] * 3
        for n, state in enumerate(states, 1):
            session.add(
                Task(
                    key=f"o/r#1/{n}",
                    run_id=run.id,
                    repository="o/r",
                    issue_number=1,
                    ordinal=n,
                    title=f"t{n}",
                    task_type="feature",
                    state=state,
                )
            )
        # Runnable for 120 s (the oldest), runnable for 10 s, and one waiting out a backoff
        # whose far older created_at must not count: it is not runnable yet.
        for run_after, created in (
            (now - timedelta(seconds=120), now - timedelta(seconds=130)),
            (now - timedelta(seconds=10), now - timedelta(seconds=10)),
            (now + timedelta(hours=1), now - timedelta(days=2)),
        ):
            session.add(
                Job(kind="generate", status="queued", run_after=run_after, created_at=created)
            )
        session.add(Job(kind="generate", status="running", run_after=now))
        for _ in range(2):
            session.add(Job(kind="delivery", status="dead", run_after=now))
        for _ in range(4):
            session.add(Job(kind="delivery", status="done", run_after=now))


@pytest.fixture
async def app(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Litestar]:
    router = Router()

    @router.on("installation", "created")
    async def noop(ctx: Any, delivery: Any) -> None:  # makes the event "handled"
        return None

    app = app_with_metrics(make_settings(tmp_path, sqlite_url), router)
    app.state.metrics = Metrics()  # a fresh one per test, whatever create_app set
    yield app


def app_with_metrics(settings: Settings, router: Router) -> Litestar:
    """The app with `/metrics`, whether or not create_app already registers it (adding the
    route twice would fail)."""
    app = create_app(settings, router=router)
    if any(route.path == "/metrics" for route in app.routes):
        return app
    return create_app(settings, router=router, extra_routes=metrics_routes())


async def post(client: AsyncTestClient, event: str, payload: dict[str, Any], delivery: str) -> int:
    body = json.dumps(payload).encode()
    response = await client.post(
        "/webhooks/github", content=body, headers=headers_for(event, body, delivery)
    )
    return response.status_code


async def test_metrics_through_the_app(app: Litestar, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    await add_history(make_session_factory(engine))
    await engine.dispose()
    installation = load_payload("installation.created.0.json")
    async with AsyncTestClient(app) as client:
        assert await post(client, "installation", installation, "d-1") == 202
        # Another event (a byte-identical body under a new id would be a replay).
        assert await post(client, "installation", {**installation, "n": 2}, "d-2") == 202
        assert await post(client, "installation", installation, "d-1") == 200  # redelivery
        assert await post(client, "ping", {"zen": "hi", "hook_id": 1}, "d-3") == 200
        app.state.metrics.job_finished("generate", 42.0, "done")
        app.state.metrics.job_finished("generate", 0.2, "retry")
        app.state.metrics.llm_call("gpt-4o", 1200, 300, 0.0105)
        app.state.metrics.llm_call("gpt-4o", 800, 100, 0.0045)
        app.state.metrics.llm_call(None, 10, 0, 0.0)
        app.state.metrics.rate_limit(4321)
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["content-type"].count("charset") == 1
    s = parse(response.text)
    deliveries = "issuewright_deliveries_total"
    assert value(s, deliveries, event="installation", outcome="stored") == 2
    assert value(s, deliveries, event="installation", outcome="duplicate") == 1
    assert value(s, deliveries, event="ping", outcome="ignored") == 1
    # The two stored installation deliveries enqueued one job each, beside the 3 inserted.
    assert value(s, "issuewright_queue_depth", status="queued") == 5
    assert value(s, "issuewright_queue_depth", status="running") == 1
    assert value(s, "issuewright_queue_depth", status="dead") == 2
    assert value(s, "issuewright_queue_depth", status="done") == 4
    age = value(s, "issuewright_queue_oldest_age_seconds")
    assert age is not None and 120 <= age < 180
    assert value(s, "issuewright_tasks", state="merged") == 2
    assert value(s, "issuewright_tasks", state="generating") == 1
    assert value(s, "issuewright_tasks", state="failed") == 3
    assert value(s, "issuewright_tasks", state="checks_failed") == 0  # zero-filled
    assert value(s, "issuewright_database_up") == 1
    assert value(s, "issuewright_job_seconds_count", kind="generate") == 2
    assert value(s, "issuewright_job_seconds_sum", kind="generate") == pytest.approx(42.2)
    assert value(s, "issuewright_job_seconds_bucket", kind="generate", le="1.0") == 1
    assert value(s, "issuewright_jobs_total", kind="generate", outcome="retry") == 1
    tokens = "issuewright_llm_tokens_total"
    assert value(s, tokens, model="gpt-4o", direction="input") == 2000
    assert value(s, tokens, model="gpt-4o", direction="output") == 400
    assert value(s, tokens, model="unknown", direction="input") == 10
    assert value(s, "issuewright_llm_cost_usd_total", model="gpt-4o") == pytest.approx(0.015)
    assert value(s, "issuewright_github_rate_limit_remaining") == 4321


async def test_database_down_still_answers(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.delivery("issues", "stored")
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        body = (await metrics.render(make_session_factory(engine))).decode()
    finally:
        await engine.dispose()
    s = parse(body)
    assert value(s, "issuewright_database_up") == 0
    assert value(s, "issuewright_deliveries_total", event="issues", outcome="stored") == 1
    assert not any(name == "issuewright_queue_depth" for name, _ in s)  # no stale series


def test_each_metrics_has_its_own_registry() -> None:
    # A second app in the same process must neither fail on duplicate names nor share counts.
    first, second = Metrics(), Metrics()
    first.delivery("issues", "stored")
    first.llm_call("m", 1, 1, -5.0)  # a bogus negative cost must not raise (counters only rise)
    s1, s2 = (parse(generate_latest(m.registry).decode()) for m in (first, second))
    assert value(s1, "issuewright_deliveries_total", event="issues", outcome="stored") == 1
    assert value(s2, "issuewright_deliveries_total", event="issues", outcome="stored") is None


async def test_metrics_route_without_metrics_is_404(tmp_path: Path, sqlite_url: str) -> None:
    app = app_with_metrics(make_settings(tmp_path, sqlite_url), Router())
    if hasattr(app.state, "metrics"):
        del app.state.metrics
    async with AsyncTestClient(app) as client:
        assert (await client.get("/metrics")).status_code == 404
