"""`/metrics` behind METRICS_TOKEN, and label values that nobody outside the server picks:
through the real app (signed deliveries, the scripted LLM on the simulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.core.env_values import SettingsError
from bot.core.lifecycle import TaskState
from bot.settings import Settings
from bot.store.db import make_engine, make_session_factory
from bot.store.models import IssueRun, Job, Task, utcnow
from tests.conftest import make_settings
from tests.e2e.conftest import FIX_ADD, scenario_with
from tests.e2e.pipeline_helpers import label_new_issue
from tests.ghsim.simulator import GitHubSimulator
from tests.ingest.helpers import headers_for
from tests.llm_stub import ScriptedLLM, chat_completion
from tests.ops.test_metrics import parse, value

TOKEN = "s3cret-metrics-token-0123456789abcdef"


async def get_metrics(client: AsyncTestClient, auth: str | bytes | None = None) -> httpx.Response:
    raw = auth.encode("latin-1") if isinstance(auth, str) else auth
    headers: dict[bytes, bytes] = {} if raw is None else {b"Authorization": raw}
    return await client.get("/metrics", headers=headers)


async def test_without_a_token_metrics_stay_open(tmp_path: Path, sqlite_url: str) -> None:
    async with AsyncTestClient(create_app(make_settings(tmp_path, sqlite_url))) as client:
        assert (await get_metrics(client)).status_code == 200
        assert (await get_metrics(client, "Bearer anything")).status_code == 200


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer {TOKEN[:-1]}\u00e9".encode("latin-1"),
        ("Bearer " + "\u20ac" * 40).encode("utf-8"),
        "Bearer " + "a" * 20_000,
    ],
)
async def test_with_a_token_a_scrape_without_it_is_401(
    tmp_path: Path, sqlite_url: str, auth: str | bytes | None
) -> None:
    settings = make_settings(tmp_path, sqlite_url, metrics_token=TOKEN)
    async with AsyncTestClient(create_app(settings)) as client:
        response = await get_metrics(client, auth)
    assert response.status_code == 401
    assert response.text.count("\n") == 1 and "METRICS_TOKEN" in response.text
    assert TOKEN not in response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("auth", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"  Bearer  {TOKEN} "])
async def test_with_the_token_a_scrape_answers(tmp_path: Path, sqlite_url: str, auth: str) -> None:
    settings = make_settings(tmp_path, sqlite_url, metrics_token=TOKEN)
    async with AsyncTestClient(create_app(settings)) as client:
        response = await get_metrics(client, auth)
    assert response.status_code == 200
    assert "issuewright_database_up" in response.text


def test_metrics_token_setting(tmp_path: Path) -> None:
    env_file = tmp_path / "none.env"
    settings = Settings.from_env({"METRICS_TOKEN": f" {TOKEN} "}, env_file=env_file)
    assert settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)
    assert Settings.from_env({}, env_file=env_file).metrics_token is None
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"METRICS_TOKEN": "two words"}, env_file=env_file)
    assert "METRICS_TOKEN" in str(refused.value) and "two words" not in str(refused.value)


async def test_label_values_come_from_fixed_sets_and_configuration(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        llm_model="my-local-model",
        llm_pricing_overrides=(("house-model", 1.0, 2.0),),
    )
    app = create_app(settings)
    async with AsyncTestClient(app) as client:
        # Signed, but with events GitHub never sends: one "other" series, not one each.
        for n in range(5):
            body = json.dumps({"action": f"act{n}", "zen": "x"}).encode()
            headers = headers_for(f"made_up_event_{n}", body, f"ev-{n}")
            assert (
                await client.post("/webhooks/github", content=body, headers=headers)
            ).status_code == 202
        metrics = app.state.metrics
        for n in range(5):
            metrics.llm_call(f"answered-model-{n}", 10, 1, 0.0)
            metrics.job_finished(f"kind-{n}", 1.0, f"outcome-{n}")
        metrics.llm_call("my-local-model", 7, 1, 0.0)
        metrics.llm_call("house-model", 5, 1, 0.0)
        metrics.llm_call("gpt-4o", 3, 1, 0.0)
        sessions = make_session_factory(engine := make_engine(sqlite_url))
        async with sessions() as session, session.begin():
            run = IssueRun(repository="o/r", issue_number=1, created_at=utcnow())
            session.add(run)
            await session.flush()
            for n, state in enumerate(["weird-1", "weird-2", TaskState.MERGED.value], 1):
                session.add(
                    Task(
                        key=f"o/r#1/{n}",
                        run_id=run.id,
                        repository="o/r",
                        issue_number=1,
                        ordinal=n,
                        title="t",
                        task_type="feature",
                        state=state,
                    )
                )
            session.add(Job(kind="generate", status="strange", run_after=utcnow()))
        await engine.dispose()
        s = parse((await get_metrics(client)).text)

    labels = {(name, lbl) for name, lbl in s}
    events = {dict(lbl).get("event") for name, lbl in labels if "deliveries" in name}
    assert events == {"other"}
    models = {
        dict(lbl)["model"] for name, lbl in labels if name == "issuewright_llm_cost_usd_total"
    }
    assert models == {"other", "my-local-model", "house-model", "gpt-4o"}
    assert value(s, "issuewright_llm_tokens_total", model="other", direction="input") == 50
    kinds = {dict(lbl)["kind"] for name, lbl in labels if name == "issuewright_jobs_total"}
    outcomes = {dict(lbl)["outcome"] for name, lbl in labels if name == "issuewright_jobs_total"}
    assert "other" in kinds and not any(k.startswith("kind-") for k in kinds)
    assert outcomes <= {"done", "retry", "dead", "other"} and "other" in outcomes
    assert value(s, "issuewright_tasks", state="other") == 2
    assert value(s, "issuewright_tasks", state="merged") == 1
    assert value(s, "issuewright_queue_depth", status="other") == 1
    assert not any("weird" in str(lbl) or "strange" in str(lbl) for _, lbl in labels)


async def test_the_model_an_endpoint_answers_with_is_not_a_label(
    tmp_path: Path, sqlite_url: str, github_sim: GitHubSimulator
) -> None:
    """The endpoint names a different model in every answer; the label is the configured
    model of the repository (gpt-4o-mini in the calc scenario)."""

    def answer(request: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json=chat_completion(FIX_ADD, "attacker-model-1", 1000, 50))

    llm = ScriptedLLM(answer)
    async with scenario_with(tmp_path, sqlite_url, github_sim, llm) as scenario:
        await label_new_issue(scenario)
        response = await scenario.harness.client.get("/metrics")
    s = parse(response.text)
    assert (
        value(s, "issuewright_llm_tokens_total", model="gpt-4o-mini", direction="input") or 0
    ) > 0
    assert "attacker-model" not in response.text
    kinds = {dict(lbl).get("kind") for name, lbl in s if name == "issuewright_jobs_total"}
    assert kinds and kinds <= {"delivery", "generate", "ci_fix", "review"}
