"""Contract tests: `bot/github/` against cassettes whose bodies are GitHub's own OpenAPI
examples (written by `make_cassettes.py`), replayed by vcrpy with record_mode "none".

vcrpy patches httpx's transports, so no transport is injected here. Each cassette also pins
the request: method, URL, query and JSON body (the `json_body` matcher) must be what the
bot sends, and every interaction must be played.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import vcr
from githubkit.cache import MemCacheStrategy

from bot.github import (
    GitHubAPI,
    create_installation_token,
    installation_client,
    make_app_github,
)
from bot.settings import Settings
from tests.ghsim.openapi import openapi

from .make_cassettes import CASES, CASSETTES, NUMBER, OWNER, REPO

pytest_plugins = ["tests.ghsim.fixtures"]

R = "/repos/{owner}/{repo}"


def _json_body(real: Any, recorded: Any) -> None:
    def parse(body: Any) -> Any:
        if not body:
            return None
        return json.loads(body.decode() if isinstance(body, bytes) else body)

    assert parse(real.body) == parse(recorded.body), "request body differs from the cassette"


def _vcr() -> vcr.VCR:
    player = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="none",
        filter_headers=["authorization"],
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
    )
    player.register_matcher("json_body", _json_body)
    return player


@pytest.fixture
def settings(app_private_key: str) -> Settings:
    return Settings(app_id="1", private_key=app_private_key)


@pytest.fixture
def app_gh(settings: Settings):
    return make_app_github(settings, cache_strategy=MemCacheStrategy())


@pytest.fixture
def play(settings: Settings):
    """Run `action` on a fresh installation client (so each cassette's token request is
    made) inside cassette `name`; every recorded interaction must be played."""

    async def play(name: str, action: Callable[[GitHubAPI], Awaitable[Any]]) -> Any:
        gh = make_app_github(settings, cache_strategy=MemCacheStrategy())
        api = GitHubAPI(installation_client(gh, 1), settings)
        with _vcr().use_cassette(f"{name}.yaml") as cassette:
            result = await action(api)
        assert cassette.all_played, f"{name}: not every recorded interaction was requested"
        return result

    return play


async def play_app(name: str, action: Callable[[], Awaitable[Any]]) -> Any:
    with _vcr().use_cassette(f"{name}.yaml") as cassette:
        result = await action()
    assert cassette.all_played, f"{name}: not every recorded interaction was requested"
    return result


def example(method: str, template: str, status: int = 200) -> Any:
    return openapi().response_example(method, template, status)


def test_every_case_has_a_cassette():
    assert sorted(p.stem for p in CASSETTES.glob("*.yaml")) == sorted(CASES)


async def test_installation_token(app_gh):
    token = await play_app("installation_token", lambda: create_installation_token(app_gh, 1))
    assert (token.token, token.expires_at) == ("ghs_scrubbed", "2099-01-01T00:00:00Z")


async def test_comments(play):
    comment = example("post", R + "/issues/{issue_number}/comments", 201)
    created = await play(
        "create_comment", lambda api: api.create_comment(OWNER, REPO, NUMBER, "Working on it")
    )
    assert (created.id, created.body, created.user) == (1, comment["body"], "octocat")
    edited = await play("edit_comment", lambda api: api.edit_comment(OWNER, REPO, 1, "Done"))
    assert edited.html_url == comment["html_url"]
    assert await play("get_comment", lambda api: api.get_comment(OWNER, REPO, 1)) == created
    found = await play("find_comment", lambda api: api.find_comment(OWNER, REPO, NUMBER, "Me too"))
    assert found == created


async def test_reactions_and_labels(play):
    await play("react_to_issue", lambda api: api.react_to_issue(OWNER, REPO, NUMBER, "eyes"))
    added = await play("add_labels", lambda api: api.add_labels(OWNER, REPO, NUMBER, ["bug"]))
    assert added == ["bug", "enhancement"]
    assert await play("remove_label", lambda api: api.remove_label(OWNER, REPO, NUMBER, "bug"))
    await play(
        "ensure_label",
        lambda api: api.ensure_label(OWNER, REPO, "bug", "f29513", "Something isn't working"),
    )


async def test_permission(play):
    assert await play("permission", lambda api: api.permission(OWNER, REPO, "octocat")) == "admin"


async def test_issue(play):
    issue = await play("get_issue", lambda api: api.get_issue(OWNER, REPO, NUMBER))
    assert (issue.number, issue.title, issue.labels, issue.user) == (
        NUMBER,
        "Found a bug",
        ("bug",),
        "octocat",
    )
    updated = await play(
        "update_issue_body",
        lambda api: api.update_issue_body(OWNER, REPO, NUMBER, "I'm having a problem."),
    )
    assert updated.body == "I'm having a problem with this."  # the example's body


async def test_file_contents_and_repository(play):
    text = await play(
        "file_contents", lambda api: api.file_contents(OWNER, REPO, "README.md", "main")
    )
    # The example's base64 is itself damaged past its first bytes; it must not crash.
    assert text is not None and text.startswith("# Yoga Bo")
    repo = await play("repository", lambda api: api.repository(OWNER, REPO))
    assert (repo.full_name, repo.default_branch, repo.private) == (
        "octocat/Hello-World",
        "master",
        False,
    )
    assert repo.clone_url == "https://github.com/octocat/Hello-World.git"  # from settings


async def test_pull_requests(play):
    pr = await play(
        "create_pull",
        lambda api: api.create_pull(
            OWNER,
            REPO,
            title="Amazing new feature",
            head="new-topic",
            base="master",
            body="Please pull these awesome changes in!",
        ),
    )
    assert (pr.number, pr.head_ref, pr.base_ref, pr.state, pr.merged) == (
        NUMBER,
        "new-topic",
        "master",
        "open",
        False,
    )
    assert pr.head_sha == "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    found = await play("find_open_pull", lambda api: api.find_open_pull(OWNER, REPO, "new-topic"))
    assert found is not None and found.number == NUMBER
    closed = await play("close_pull", lambda api: api.close_pull(OWNER, REPO, NUMBER))
    assert closed.number == NUMBER
    await play(
        "request_reviewers", lambda api: api.request_reviewers(OWNER, REPO, NUMBER, ["octocat"])
    )
    reviews = await play("list_reviews", lambda api: api.list_reviews(OWNER, REPO, NUMBER))
    assert [(r.id, r.user, r.state) for r in reviews] == [(80, "octocat", "APPROVED")]
    comments = await play(
        "list_review_comments", lambda api: api.list_review_comments(OWNER, REPO, NUMBER)
    )
    assert [(c.id, c.path, c.line, c.body) for c in comments] == [
        (10, "file1.txt", 2, "Great stuff!")
    ]
    assert await play("delete_branch", lambda api: api.delete_branch(OWNER, REPO, "feature-a"))


async def test_check_runs(play):
    sha = "ce587453ced02b1526dfb4cb910479d431683101"
    run = await play(
        "create_check_run",
        lambda api: api.create_check_run(OWNER, REPO, name="mighty_readme", head_sha=sha),
    )
    assert (run.id, run.name, run.head_sha, run.app_slug) == (4, "mighty_readme", sha, "octoapp")
    updated = await play(
        "update_check_run",
        lambda api: api.update_check_run(
            OWNER,
            REPO,
            4,
            conclusion="success",
            output={"title": "Mighty Readme report", "summary": "There are 0 failures."},
        ),
    )
    assert (updated.status, updated.conclusion) == ("completed", "neutral")  # the example's
    runs = await play("list_check_runs", lambda api: api.list_check_runs(OWNER, REPO, "main"))
    assert [r.name for r in runs] == ["mighty_readme"]
    notes = await play(
        "check_run_annotations", lambda api: api.check_run_annotations(OWNER, REPO, 4)
    )
    assert [(a.path, a.start_line, a.level, a.title) for a in notes] == [
        ("README.md", 2, "warning", "Spell Checker")
    ]
