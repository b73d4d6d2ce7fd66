"""The simulator holds to GitHub's contract: a malformed reply or request fails the test, its
webhooks are signed and match the published schema, and its git remotes are real."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import httpx
import pytest
from githubkit.exception import RequestError

from bot.github import GitHubAPI, GitHubError, installation_client
from tests.ghsim import GitHubSimulator, SchemaViolation, http_sink, sign
from tests.ghsim.app import SimulatorGap
from tests.ghsim.core import router
from tests.ghsim.openapi import openapi
from tests.ghsim.webhooks import schema_errors

pytest_plugins = ["tests.ghsim.fixtures"]

OWNER, NAME = "octo-org", "hello"
REPO = f"{OWNER}/{NAME}"
PULLS = "/repos/{owner}/{repo}/pulls"


@pytest.fixture
def repo(github_sim: GitHubSimulator):
    return github_sim.create_repo(OWNER, NAME, {"README.md": "# Hello\n"})


def _cause(exc: BaseException) -> BaseException:
    """githubkit wraps what the transport raised in `RequestError`."""
    return exc.exc if isinstance(exc, RequestError) else exc


async def test_malformed_pull_request_fails_the_openapi_check(github_sim, github_api, repo):
    await github_sim.push_commit(REPO, "iw/1", {"a.txt": "a\n"})

    def drop_required(pr: dict) -> dict:
        del pr["head"], pr["mergeable_state"]
        pr["number"] = str(pr["number"])
        return pr

    github_sim.tamper("POST", PULLS, drop_required)
    with pytest.raises(RequestError) as failed:
        await github_api.create_pull(OWNER, NAME, title="T", head="iw/1", base="main", body="")

    assert isinstance(_cause(failed.value), SchemaViolation)
    details = [v.detail for v in github_sim.violations]
    assert [v.operation for v in github_sim.violations] == [f"POST {PULLS} 201"] * 3
    assert "<root>: 'head' is a required property" in details
    assert "<root>: 'mergeable_state' is a required property" in details
    assert "number: '1' is not of type 'integer'" in details
    github_sim.violations.clear()  # provoked on purpose


async def test_untampered_pull_request_passes(github_sim, github_api, repo):
    await github_sim.push_commit(REPO, "iw/1", {"a.txt": "a\n"})
    pr = await github_api.create_pull(OWNER, NAME, title="T", head="iw/1", base="main", body="")
    assert pr.number == 1 and not github_sim.violations


async def test_request_body_the_spec_rejects_fails(github_sim, github_api, repo):
    with pytest.raises(RequestError) as failed:
        # A title must be a string and `head` is required: githubkit's own model check is
        # bypassed with a raw request, as a hand-written call could do.
        await github_api.gh.arequest(
            "POST", f"/repos/{REPO}/pulls", json={"title": 5, "base": "main"}
        )
    assert isinstance(_cause(failed.value), SchemaViolation)
    details = {v.detail for v in github_sim.violations}
    assert "title: 5 is not of type 'string'" in details
    assert "<root>: 'head' is a required property" in details
    assert {v.kind for v in github_sim.violations} == {"request"}
    github_sim.violations.clear()


async def test_unimplemented_endpoint_is_a_loud_gap(github_sim, github_api, repo):
    with pytest.raises(RequestError) as failed:
        await github_api.gh.arequest("GET", f"/repos/{REPO}/releases")
    assert isinstance(_cause(failed.value), SimulatorGap)
    github_sim.violations.clear()


def test_every_simulated_route_is_a_github_operation():
    spec_paths = openapi().spec["paths"]
    for route in router.routes:
        assert route.method.lower() in spec_paths.get(route.template, {}), route.template


async def test_wrong_credentials_get_githubs_answers(github_sim, app_github, repo):
    other = github_sim.create_installation("someone-else")
    stranger = GitHubAPI(installation_client(app_github, other.id))
    with pytest.raises(GitHubError) as hidden:
        await stranger.repository(OWNER, NAME)
    assert hidden.value.status == 404  # GitHub hides what a token cannot see
    response = await app_github.arequest("GET", "/app")  # JWT accepted
    assert response.json()["slug"] == "issuewright"
    client = httpx.AsyncClient(transport=github_sim.transport(), base_url=github_sim.api_url)
    async with client:
        bad = await client.get("/app", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401


def test_signature_matches_githubs_test_vector():
    assert sign("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


async def test_webhooks_are_signed_and_delivered_in_order(github_sim, repo):
    received: list[tuple[dict[str, str], bytes]] = []

    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot")
    async with client:
        github_sim.deliver = http_sink(client, "s3cret")
        await github_sim.open_issue(REPO, "Title", "Body", "alice", ["issuewright"])

    assert [h["x-github-event"] for h, _ in received] == ["issues", "issues"]
    actions = [json.loads(body)["action"] for _, body in received]
    assert actions == ["opened", "labeled"]
    for headers, body in received:
        assert headers["x-hub-signature-256"] == sign("s3cret", body)
    labeled = json.loads(received[1][1])
    assert labeled["label"]["name"] == "issuewright"
    # The published labeled examples lack `installation`; an App's deliveries carry it.
    assert labeled["installation"]["id"] in github_sim.state.installations


async def test_failed_delivery_is_reported(github_sim, repo):
    async def refuse(event: str, payload: dict) -> None:
        raise AssertionError("app answered 500")

    github_sim.deliver = refuse
    with pytest.raises(AssertionError):
        await github_sim.open_issue(REPO, "Title")
    assert github_sim.delivery_errors == ["issues.opened: AssertionError('app answered 500')"]
    github_sim.delivery_errors.clear()


async def test_webhook_schema_check_catches_a_broken_payload(github_sim, repo):
    await github_sim.open_issue(REPO, "Title")
    payload = copy.deepcopy(github_sim.webhooks("issues", "opened")[0].payload)
    assert schema_errors("issues", payload) == []
    del payload["issue"]["number"]
    assert schema_errors("issues", payload) == ["issue: 'number' is a required property"]


def _git(*args: str) -> str:
    identity = ["-c", "user.name=bot", "-c", "user.email=bot@example.com"]
    done = subprocess.run(["git", *identity, *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _clone_and_push_branch(url: str, work: Path, branch: str) -> str:
    """What the bot's workspace does: clone the remote, commit on a branch, push it."""
    _git("clone", "-q", url, str(work))
    (work / "feature.txt").write_text("from the bot\n")
    _git("-C", str(work), "checkout", "-q", "-b", branch)
    _git("-C", str(work), "add", ".")
    _git("-C", str(work), "commit", "-q", "-m", "Add feature")
    _git("-C", str(work), "push", "-q", "origin", branch)
    return _git("-C", str(work), "rev-parse", "HEAD")


def _pull_main(work: Path) -> tuple[str, list[str], str]:
    _git("-C", str(work), "pull", "-q", "origin", "main")
    sha, *parents = _git("-C", str(work), "log", "-1", "--format=%H %P").split()
    return sha, parents, (work / "OTHER.md").read_text()


async def test_merge_really_merges_and_remotes_are_real_git(github_sim, github_api, tmp_path):
    github_sim.create_repo(OWNER, NAME, {"README.md": "# Hello\n"})
    url = github_sim.git_url_template.format(owner=OWNER, repo=NAME)
    head = _clone_and_push_branch(url, tmp_path / "work", "iw/7")

    pr = await github_api.create_pull(OWNER, NAME, title="F", head="iw/7", base="main", body="")
    assert pr.head_sha == head
    await github_sim.push_commit(REPO, "main", {"OTHER.md": "human\n"}, author="carol")
    merge_sha = await github_sim.merge_pr(REPO, pr.number)

    sha, parents, other = _pull_main(tmp_path / "work")
    assert (sha, other) == (merge_sha, "human\n")
    assert head in parents
    closed = github_sim.webhooks("pull_request", "closed")[-1].payload
    assert closed["pull_request"]["merged"] is True
    assert closed["pull_request"]["merged_by"]["login"] == "octocat"


async def test_installation_lifecycle_webhooks(github_sim, app_github):
    inst = await github_sim.install("acme", repositories=["app"], type="Organization")
    github_sim.create_repo("acme", "app", {"a": "a"})
    github_sim.create_repo("acme", "lib", {"b": "b"})
    await github_sim.change_repositories(inst.id, add=["acme/lib"])
    await github_sim.change_repositories(inst.id, remove=["acme/app"])
    await github_sim.suspend(inst.id)
    api = GitHubAPI(installation_client(app_github, inst.id))
    with pytest.raises(GitHubError) as suspended:
        await api.repository("acme", "lib")
    assert suspended.value.status == 403
    await github_sim.unsuspend(inst.id)
    assert (await api.repository("acme", "lib")).full_name == "acme/lib"
    await github_sim.uninstall(inst.id)

    sent = [(d.event, d.action, d.payload["installation"]["id"]) for d in github_sim.deliveries]
    assert sent == [
        ("installation", "created", inst.id),
        ("installation_repositories", "added", inst.id),
        ("installation_repositories", "removed", inst.id),
        ("installation", "suspend", inst.id),
        ("installation", "unsuspend", inst.id),
        ("installation", "deleted", inst.id),
    ]
    added = github_sim.webhooks("installation_repositories", "added")[0].payload
    assert [r["full_name"] for r in added["repositories_added"]] == ["acme/lib"]
    assert github_sim.webhooks("installation", "suspend")[0].payload["installation"]["suspended_at"]
    deleted = github_sim.webhooks("installation", "deleted")[0].payload
    assert [r["full_name"] for r in deleted["repositories"]] == ["acme/lib"]
