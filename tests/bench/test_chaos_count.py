"""The chaos benchmark's tally is honest: it sees a reply posted twice, a delivery that was
acknowledged but never answered, a job left running and a side effect a help command never
makes. The effects come from the stand-in's own report (bench/ghsim_server.py) after the
App's real GitHub client acted on it, as in a chaos run; only the processes are left out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from githubkit.cache import MemCacheStrategy

from bench.chaos_count import Sent, Tally, expected_marker, tally
from bench.ghsim_server import BenchServer
from bot.github import GitHubAPI, installation_client, make_app_github
from bot.settings import Settings
from tests.ghsim.simulator import GitHubSimulator

REPO = "chaos-0/app"


@dataclass
class Run:
    server: BenchServer
    control: httpx.AsyncClient
    api: GitHubAPI
    deliveries: list[dict[str, Any]]

    async def answer(self, delivery: dict[str, Any], *, replies: int = 1) -> None:
        """What the App does for one help command: 👀, the reply (here `replies` times), 🚀."""
        comment = delivery["payload"]["comment"]["id"]
        number = delivery["payload"]["issue"]["number"]
        await self.api.react_to_comment("chaos-0", "app", comment, "eyes")
        for _ in range(replies):
            body = f"Commands: help …\n\n{expected_marker(comment)}"
            await self.api.create_comment("chaos-0", "app", number, body)
        await self.api.react_to_comment("chaos-0", "app", comment, "rocket")

    async def count(
        self, *, unanswered_acks: bool = True, jobs: list[tuple[str | None, str]] | None = None
    ) -> Tally:
        effects = (await self.control.get("/_bench/effects")).json()
        sent = [
            Sent(d["id"], d["payload"]["comment"]["id"], [202 if unanswered_acks else 503])
            for d in self.deliveries
        ]
        stored = {d["id"]: "done" for d in self.deliveries}
        return tally(sent, effects, stored, jobs or [(d["id"], "done") for d in self.deliveries])


@pytest.fixture
async def run(tmp_path: Path, app_private_key: str) -> AsyncIterator[Run]:
    # As the benchmarks run it: without the OpenAPI checks (which would refuse a bodiless call).
    sim = GitHubSimulator(tmp_path / "github", private_key_pem=app_private_key, validate=False)
    server = BenchServer(sim)
    control = httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://c")
    layout = (
        await control.post(
            "/_bench/setup",
            json={
                "accounts": [{"login": "chaos-0", "repos": [{"name": "app", "issues": 2}]}],
                "permissions": [{"repo": REPO, "user": "octocat", "perm": "admin"}],
            },
        )
    ).json()
    items = [
        {"repo": REPO, "number": n, "user": "octocat", "body": "/issuewright help"}
        for n in layout["repos"][REPO]["issues"]
        for _ in range(2)
    ]
    deliveries = (await control.post("/_bench/comments", json={"items": items})).json()
    settings = Settings(**sim.settings_overrides())
    app = make_app_github(
        settings, transport=httpx.ASGITransport(app=server), cache_strategy=MemCacheStrategy()
    )
    installation = layout["installations"]["chaos-0"]
    api = GitHubAPI(installation_client(app, installation), settings)
    yield Run(server, control, api, deliveries["deliveries"])
    await control.aclose()


async def test_every_command_answered_once_counts_nothing(run: Run) -> None:
    for delivery in run.deliveries:
        await run.answer(delivery)
    await run.answer(run.deliveries[0], replies=0)  # a re-run's reactions: GitHub keeps one
    result = await run.count()
    assert not result.failed, result
    assert result.info["replies"] == 4
    assert result.info["reaction calls repeated (GitHub keeps one)"] == 2


async def test_a_reply_posted_twice_is_a_duplicate(run: Run) -> None:
    first, *rest = run.deliveries
    await run.answer(first, replies=2)
    for delivery in rest:
        await run.answer(delivery)
    result = await run.count()
    assert (result.duplicated, result.lost, result.missing) == (1, 0, 0)


async def test_an_acknowledged_delivery_never_answered_is_lost_and_missing(run: Run) -> None:
    for delivery in run.deliveries[1:]:
        await run.answer(delivery)
    result = await run.count()
    assert (result.lost, result.missing, result.duplicated) == (1, 1, 0)
    refused = await run.count(unanswered_acks=False)  # never acknowledged: not lost
    assert (refused.lost, refused.missing, refused.unacknowledged) == (0, 1, 4)


async def test_a_job_still_running_is_stuck_and_a_label_is_unexpected(run: Run) -> None:
    for delivery in run.deliveries:
        await run.answer(delivery)
    await run.api.add_labels("chaos-0", "app", 1, ["issuewright"])
    jobs = [(d["id"], "done") for d in run.deliveries[1:]] + [(run.deliveries[0]["id"], "running")]
    result = await run.count(jobs=jobs)
    assert (result.stuck, result.unexpected, result.lost) == (1, 1, 0)


async def test_a_request_whose_caller_died_before_its_body_is_not_acted_on(run: Run) -> None:
    """A worker SIGKILLed while sending a reaction: the stand-in must not create one from the
    headers alone (it did, with no content, and the tally saw a reaction nobody asked for)."""
    comment = run.deliveries[0]["payload"]["comment"]["id"]
    token = next(iter(run.server.sim.state.tokens), None)
    if token is None:  # the App has not asked for one yet
        await run.answer(run.deliveries[1])
        token = next(iter(run.server.sim.state.tokens))
    path = f"/repos/{REPO}/issues/comments/{comment}/reactions"
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"api.github.com"), (b"authorization", f"token {token}".encode())],
    }
    messages = [
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await run.server(scope, receive, send)
    assert run.server.sim.reactions(REPO, 1, comment) == []
    assert (await run.count()).unexpected == 0
