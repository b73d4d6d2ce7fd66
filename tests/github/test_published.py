"""Whatever the App publishes (comments, PR titles and bodies, check-run output) leaves
through `GitHubAPI`, which scrubs it like the logs (the configured secrets from
`Settings.secrets()` and every credential pattern) and strips URL user-info: checked on what
the simulated GitHub stored, whoever wrote the text."""

from __future__ import annotations

import pytest

from bot.github import GitHubAPI
from bot.settings import Settings
from tests.ghsim import GitHubSimulator

pytest_plugins = ["tests.ghsim.fixtures"]

OWNER, NAME = "octo-org", "hello"
REPO = f"{OWNER}/{NAME}"
API_KEY = "llm-key-configured-on-the-server-0123"
TOKEN = "ghp_" + "A1b2" * 9


@pytest.fixture
def api(github_api: GitHubAPI, github_settings: Settings) -> GitHubAPI:
    github_api.settings = github_settings.with_(llm_api_key=API_KEY)
    return github_api


def leaky(settings: Settings) -> str:
    return (
        f"failed talking to http://gateway-user:gateway-pass-99@10.0.0.7:8080/v1 "
        f"with key {API_KEY}, secret {settings.webhook_secret} and {TOKEN}"
    )


def assert_clean(text: str) -> None:
    for leak in ("gateway-user", "gateway-pass-99", API_KEY, "test-secret", TOKEN):
        assert leak not in text, leak
    assert "http://10.0.0.7:8080/v1" in text  # the rest of the text stays readable


async def test_comments_pulls_and_check_runs_are_scrubbed(
    github_sim: GitHubSimulator, api: GitHubAPI
) -> None:
    assert api.settings is not None
    github_sim.create_repo(OWNER, NAME, {"README.md": "# Hello\n"})
    issue = await github_sim.open_issue(REPO, "Greet", "Please.", "alice", ["issuewright"])
    text = leaky(api.settings)

    comment = await api.create_comment(OWNER, NAME, issue.number, text)
    assert_clean(github_sim.comments(REPO, issue.number)[0].body)
    await api.edit_comment(OWNER, NAME, comment.id, "edited: " + text)
    assert_clean(github_sim.comments(REPO, issue.number)[0].body)

    sha = await github_sim.push_commit(REPO, "iw/1", {"x.py": "x = 1\n"})
    pr = await api.create_pull(OWNER, NAME, title=text, head="iw/1", base="main", body=text)
    [stored] = github_sim.pulls(REPO)
    assert_clean(stored.title)
    assert_clean(stored.body or "")
    await api.update_pull(OWNER, NAME, pr.number, title="t " + text, body="b " + text)
    [stored] = github_sim.pulls(REPO)
    assert_clean(stored.title)
    assert_clean(stored.body or "")

    output = {"title": "x", "summary": text, "text": text}
    run = await api.create_check_run(OWNER, NAME, name="issuewright", head_sha=sha, output=output)
    [stored_run] = github_sim.check_runs(REPO)
    assert_clean(stored_run.output["summary"])
    assert_clean(stored_run.output["text"])
    await api.update_check_run(OWNER, NAME, run.id, output={**output, "summary": "u " + text})
    [stored_run] = github_sim.check_runs(REPO)
    assert_clean(stored_run.output["summary"])
