"""Every `GitHubAPI` wrapper against the GitHub simulator (responses checked against the
OpenAPI description by the simulator itself; the fixture fails a test on any violation)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from githubkit.cache import MemCacheStrategy

from bot.github import (
    GitHubAPI,
    GitHubError,
    RateLimited,
    create_installation_token,
    installation_client,
    make_app_github,
    rate_limit_monitor,
)
from bot.settings import Settings
from tests.ghsim import GitHubSimulator

pytest_plugins = ["tests.ghsim.fixtures"]

OWNER, NAME = "octo-org", "hello"
REPO = f"{OWNER}/{NAME}"
MARKER = "<!-- issuewright:status -->"


@pytest.fixture
def repo(github_sim: GitHubSimulator):
    return github_sim.create_repo(
        OWNER, NAME, {"README.md": "# Hello\n", "src/app.py": "print('hi')\n"}
    )


@pytest.fixture
async def issue(github_sim: GitHubSimulator, repo):
    return await github_sim.open_issue(REPO, "Add a greeting", "Please.", "alice", ["issuewright"])


async def test_comment_found_again_by_marker_across_pages(github_sim, github_api, issue):
    for i in range(101):  # more than one page of 100
        await github_sim.comment(REPO, issue.number, f"chatter {i}", "bob")
    # A person quoting the marker must not be taken for the bot's status comment.
    await github_sim.comment(REPO, issue.number, f"quoting {MARKER}", "mallory")
    created = await github_api.create_comment(OWNER, NAME, issue.number, f"Working… {MARKER}")

    found = await github_api.find_comment(
        OWNER, NAME, issue.number, MARKER, author="issuewright[bot]"
    )

    assert found == created
    assert created.user == "issuewright[bot]"
    pages = [
        r for r in github_sim.requests if r.template.endswith("/comments") and r.method == "GET"
    ]
    assert len(pages) == 2
    edited = await github_api.edit_comment(OWNER, NAME, created.id, f"Done {MARKER}")
    assert (await github_api.get_comment(OWNER, NAME, created.id)) == edited
    assert github_sim.comments(REPO, issue.number)[-1].body == f"Done {MARKER}"
    assert await github_api.get_comment(OWNER, NAME, 999_999) is None
    assert await github_api.find_comment(OWNER, NAME, issue.number, "<!-- none -->") is None


async def test_reactions_on_issue_and_comment(github_sim, github_api, issue):
    comment = await github_sim.comment(REPO, issue.number, "/issuewright retry", "alice")
    await github_api.react_to_issue(OWNER, NAME, issue.number, "eyes")
    await github_api.react_to_issue(OWNER, NAME, issue.number, "eyes")  # 200, not a second one
    await github_api.react_to_comment(OWNER, NAME, comment.id, "rocket")
    await github_api.react_to_comment(OWNER, NAME, comment.id, "confused")
    assert github_sim.reactions(REPO, issue.number) == ["eyes"]
    assert github_sim.reactions(REPO, issue.number, comment.id) == ["rocket", "confused"]


async def test_labels(github_sim, github_api, issue):
    await github_api.ensure_label(OWNER, NAME, "issuewright:plan", description="planned")
    await github_api.ensure_label(OWNER, NAME, "issuewright:plan")  # exists: no second POST
    creates = [r for r in github_sim.requests if r.template == "/repos/{owner}/{repo}/labels"]
    assert len(creates) == 1
    assert await github_api.add_labels(OWNER, NAME, issue.number, ["issuewright:plan"]) == [
        "issuewright",
        "issuewright:plan",
    ]
    assert await github_api.remove_label(OWNER, NAME, issue.number, "issuewright") is True
    assert await github_api.remove_label(OWNER, NAME, issue.number, "issuewright") is False
    assert [x.name for x in github_sim.issue(REPO, issue.number).labels] == ["issuewright:plan"]


@pytest.mark.parametrize("role", ["admin", "maintain", "write", "triage", "read", "none"])
async def test_permission_roles(github_sim, github_api, repo, role):
    github_sim.set_permission(REPO, "carol", role)
    assert await github_api.permission(OWNER, NAME, "carol") == role


async def test_permission_owner_stranger_and_unknown(github_sim, github_api, repo):
    github_sim.user("stranger")
    assert await github_api.permission(OWNER, NAME, OWNER) == "admin"
    assert await github_api.permission(OWNER, NAME, "stranger") == "read"  # public repository
    assert await github_api.permission(OWNER, NAME, "ghost-user") == "none"  # 404


async def test_issue_get_and_update_body(github_api, issue):
    got = await github_api.get_issue(OWNER, NAME, issue.number)
    assert (got.title, got.body, got.user, got.labels) == (
        "Add a greeting",
        "Please.",
        "alice",
        ("issuewright",),
    )
    assert not got.is_pull_request
    updated = await github_api.update_issue_body(OWNER, NAME, issue.number, "- [ ] task")
    assert updated.body == "- [ ] task"


async def test_file_contents_at_refs(github_sim, github_api, repo):
    await github_sim.push_commit(REPO, "feature", {"src/app.py": "print('héllo')\n"})
    assert await github_api.file_contents(OWNER, NAME, "src/app.py") == "print('hi')\n"
    assert await github_api.file_contents(OWNER, NAME, "src/app.py", "feature") == (
        "print('héllo')\n"
    )
    assert await github_api.file_contents(OWNER, NAME, ".github/issuewright.yml") is None
    assert await github_api.file_contents(OWNER, NAME, "src") is None  # a directory


async def test_repository_metadata_and_clone_url(github_sim, github_api, github_settings):
    github_sim.create_repo(OWNER, "trunky", {"a.txt": "a"}, default_branch="trunk")
    info = await github_api.repository(OWNER, "trunky")
    assert info.default_branch == "trunk"
    assert info.clone_url == github_settings.git_url_template.format(owner=OWNER, repo="trunky")
    assert info.clone_url.startswith("file://")
    plain = GitHubAPI(github_api.gh, github_settings.with_(git_url_template=None))
    assert plain.clone_url(OWNER, "trunky") == "https://github.com/octo-org/trunky.git"


async def test_pull_request_lifecycle(github_sim, github_api, repo):
    sha = await github_sim.push_commit(REPO, "iw/1-greeting", {"src/app.py": "print('hey')\n"})
    pr = await github_api.create_pull(
        OWNER, NAME, title="Greeting", head="iw/1-greeting", base="main", body="Closes #1"
    )
    assert (pr.draft, pr.state, pr.head_ref, pr.head_sha, pr.base_ref) == (
        True,
        "open",
        "iw/1-greeting",
        sha,
        "main",
    )
    opened = github_sim.webhooks("pull_request", "opened")
    assert [d.payload["number"] for d in opened] == [pr.number]
    assert opened[0].payload["pull_request"]["head"]["sha"] == sha

    assert await github_api.find_open_pull(OWNER, NAME, "iw/1-greeting") == pr
    assert await github_api.find_open_pull(OWNER, NAME, "other") is None
    with pytest.raises(GitHubError) as duplicate:
        await github_api.create_pull(
            OWNER, NAME, title="Again", head="iw/1-greeting", base="main", body=""
        )
    assert duplicate.value.status == 422

    github_sim.set_permission(REPO, "carol", "write")
    await github_api.request_reviewers(OWNER, NAME, pr.number, ["carol"])
    assert [u.login for u in github_sim.issue(REPO, pr.number).pull.requested_reviewers] == [
        "carol"
    ]
    renamed = await github_api.update_pull(OWNER, NAME, pr.number, title="Greeting v2")
    assert renamed.title == "Greeting v2"
    assert (await github_api.get_pull(OWNER, NAME, pr.number)).title == "Greeting v2"

    closed = await github_api.close_pull(OWNER, NAME, pr.number)
    assert closed.state == "closed" and not closed.merged
    assert await github_api.find_open_pull(OWNER, NAME, "iw/1-greeting") is None
    assert await github_api.delete_branch(OWNER, NAME, "iw/1-greeting") is True
    assert await github_api.delete_branch(OWNER, NAME, "iw/1-greeting") is False
    assert github_sim.branch_sha(REPO, "iw/1-greeting") is None
    # The closed PR still reports its last head sha once the branch is gone.
    assert (await github_api.get_pull(OWNER, NAME, pr.number)).head_sha == sha


async def test_reviews_and_merge(github_sim, github_api, repo):
    await github_sim.push_commit(REPO, "iw/2", {"NEW.md": "new\n"})
    pr = await github_api.create_pull(OWNER, NAME, title="T", head="iw/2", base="main", body="")
    await github_sim.submit_review(
        REPO, pr.number, "carol", "CHANGES_REQUESTED", "Needs work", [("NEW.md", 1, "typo")]
    )
    reviews = await github_api.list_reviews(OWNER, NAME, pr.number)
    assert [(r.user, r.state, r.body) for r in reviews] == [
        ("carol", "CHANGES_REQUESTED", "Needs work")
    ]
    comments = await github_api.list_review_comments(OWNER, NAME, pr.number)
    assert [(c.user, c.path, c.line, c.body) for c in comments] == [("carol", "NEW.md", 1, "typo")]
    merge_sha = await github_sim.merge_pr(REPO, pr.number, "carol")
    merged = await github_api.get_pull(OWNER, NAME, pr.number)
    assert merged.merged and merged.state == "closed"
    assert github_sim.branch_sha(REPO, "main") == merge_sha
    assert await github_api.file_contents(OWNER, NAME, "NEW.md") == "new\n"
    closed = github_sim.webhooks("pull_request", "closed")[-1].payload["pull_request"]
    assert closed["merged"] is True and closed["merge_commit_sha"] == merge_sha


async def test_check_runs(github_sim, github_api, repo):
    sha = await github_sim.push_commit(REPO, "iw/3", {"x.py": "x = 2\n"})
    run = await github_api.create_check_run(OWNER, NAME, name="issuewright", head_sha=sha)
    assert (run.status, run.conclusion, run.app_slug) == ("in_progress", None, "issuewright")
    done = await github_api.update_check_run(
        OWNER,
        NAME,
        run.id,
        conclusion="failure",
        output={
            "title": "Lint",
            "summary": "1 problem",
            "annotations": [
                {
                    "path": "x.py",
                    "start_line": 1,
                    "end_line": 1,
                    "annotation_level": "failure",
                    "message": "bad name",
                }
            ],
        },
    )
    assert (done.status, done.conclusion, done.title) == ("completed", "failure", "Lint")
    await github_sim.report_checks(REPO, sha, runs={"tests": "failure", "lint": "success"})

    by_branch = await github_api.list_check_runs(OWNER, NAME, "iw/3")
    assert sorted(r.name for r in by_branch) == ["issuewright", "lint", "tests"]
    assert await github_api.list_check_runs(OWNER, NAME, sha, check_name="tests") == [
        r for r in by_branch if r.name == "tests"
    ]
    notes = await github_api.check_run_annotations(OWNER, NAME, run.id)
    assert [(a.path, a.start_line, a.level, a.message) for a in notes] == [
        ("x.py", 1, "failure", "bad name")
    ]
    suite = github_sim.webhooks("check_suite", "completed")[-1].payload["check_suite"]
    assert (suite["conclusion"], suite["head_sha"]) == ("failure", sha)


async def test_installation_token_for_git(github_sim, app_github):
    inst = github_sim.create_installation("someone")
    token = await create_installation_token(app_github, inst.id)
    assert github_sim.state.tokens[token.token] == inst.id
    assert token.token not in repr(token)


async def test_suspended_installation_cannot_get_a_token(github_sim, app_github):
    inst = github_sim.create_installation("someone")
    github_sim.suspend_installation(inst.id)
    with pytest.raises(GitHubError) as refused:
        await create_installation_token(app_github, inst.id)
    assert refused.value.status == 403


@pytest.mark.parametrize("secondary", [False, True])
async def test_rate_limited_call_says_paused_until_without_waiting(
    github_sim, github_api, repo, secondary, monkeypatch
):
    await github_api.repository(OWNER, NAME)  # token fetched before the limit hits
    github_sim.rate_limit(secondary=secondary, reset_in=3600)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(delay: float, *args: object) -> object:
        waits.append(delay)
        return await real_sleep(0, *args)

    monkeypatch.setattr(asyncio, "sleep", recorded_sleep)
    with pytest.raises(RateLimited) as limited:
        await github_api.repository(OWNER, NAME)
    assert not [w for w in waits if w >= 1], waits  # the job is paused, the worker not held
    expected = datetime.now(UTC) + timedelta(hours=1)
    assert abs((limited.value.reset_at - expected).total_seconds()) < 120
    assert str(limited.value) == (
        f"GitHub rate limit: paused until {limited.value.reset_at:%H:%M} UTC"
    )


async def test_short_rate_limit_is_retried_once_by_githubkit(github_sim, github_api, repo):
    await github_api.repository(OWNER, NAME)
    github_sim.rate_limit(secondary=True, reset_in=0)  # retry-after: 0
    info = await github_api.repository(OWNER, NAME)
    assert info.full_name == REPO


async def test_rate_limited_token_request_surfaces_too(github_sim, app_github, repo):
    api = GitHubAPI(installation_client(app_github, github_sim.create_installation("x").id))
    github_sim.rate_limit()  # hits POST /app/installations/{id}/access_tokens
    with pytest.raises(RateLimited):
        await api.repository(OWNER, NAME)


async def test_rate_limit_remaining_is_kept_for_metrics(github_sim, github_api, repo):
    await github_api.repository(OWNER, NAME)
    monitor = rate_limit_monitor(github_api.gh)
    assert monitor is not None and monitor.remaining == github_sim.rate_remaining


async def test_github_enterprise_server_urls(tmp_path, app_private_key):
    sim = GitHubSimulator(
        tmp_path / "ghes",
        private_key_pem=app_private_key,
        api_url="https://ghe.example.com/api/v3",
        web_url="https://ghe.example.com",
    )
    settings = Settings(
        app_id=str(sim.app.id),
        private_key=app_private_key,
        github_api_url="https://ghe.example.com/api/v3",
        github_web_url="https://ghe.example.com",
    )
    app_github = make_app_github(
        settings, transport=sim.transport(), cache_strategy=MemCacheStrategy()
    )
    sim.create_repo("corp", "tool", {"README.md": "x"})
    inst = next(iter(sim.state.installations.values()))
    api = GitHubAPI(installation_client(app_github, inst.id), settings)

    info = await api.repository("corp", "tool")

    assert info.clone_url == "https://ghe.example.com/corp/tool.git"
    assert info.html_url == "https://ghe.example.com/corp/tool"
    # The simulator refuses any request not sent to ghe.example.com under /api/v3.
    assert {r.path.split("/")[1:3] == ["api", "v3"] for r in sim.requests} == {True}
    assert not sim.violations
