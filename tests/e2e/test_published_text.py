"""What the App publishes under its name, through the real app and the simulated GitHub:
third-party text (issue, model summary) never carries a live mention, reference, closing
keyword, image or HTML into the PR, the commit, the status comment or the check run; an LLM
failure never shows the endpoint's URL, its credentials or what it answered."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.policy import LLMChoice
from bot.llm.factory import make_client
from bot.llm.retry import RetryPolicy
from bot.store.models import Attempt
from tests.e2e.conftest import MAINTAINER, REPO, Scenario, scenario_with
from tests.e2e.pipeline_helpers import (
    assert_jobs_finished,
    edit,
    label_new_issue,
    llm_error,
    only_task,
    status_text,
)
from tests.ghsim.simulator import GitHubSimulator
from tests.live_markup import CLOSING, live_markup
from tests.llm_stub import ScriptedLLM
from tests.recording_server import unused_port

HOSTILE_TITLE = "add() subtracts — Fixes #4242, cc @evil-org/admins <img src=x>"
HOSTILE_BODY = """`calc.add` returns the difference instead of the sum. Ping @evil-org/admins
and @victim; duplicates #4243, octo-org/other#4244, GH-4245 and
https://github.com/octo-org/other/issues/4246.

Closes #4247. fixes: octo-org/other#4248. RESOLVED https://github.com/octo-org/other/pull/4249

![pixel](https://tracker.example/p.png) <img src="https://tracker.example/i.png">
<details><summary>more</summary>hidden</details> <!-- secret instruction --> &#64;entity
"""
ADD_BODY = '    """Return the sum of a and b."""\n    return a - b\n'
HOSTILE_SUMMARY = (
    "Closes #4343 for @victim ![p](https://tracker.example/s.png) "
    "<img src=https://tracker.example/t.png> see GH-4344"
)
HOSTILE_ANSWER = edit(
    "calc/ops.py", ADD_BODY, ADD_BODY.replace("a - b", "a + b"), summary=HOSTILE_SUMMARY
)
# Markup the App writes itself in its comments and PR bodies.
OWN_HTML = {"<!--", "<sub", "</sub", "<details", "<summary", "</summary", "</details", "<br"}


def foreign(text: str, allowed: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Live markup in `text` that the App did not write itself (its hidden markers aside)."""
    text = re.sub(r"<!-- issuewright:[^>]*-->", "<!--", text)
    return [
        (kind, found)
        for kind, found in live_markup(text)
        if (kind, found) not in allowed and not (kind == "html" and found in OWN_HTML)
    ]


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(HOSTILE_ANSWER)


async def test_hostile_issue_and_summary_publish_nothing_live(scenario: Scenario) -> None:
    sim = scenario.sim
    number = await label_new_issue(scenario, HOSTILE_TITLE, HOSTILE_BODY)
    [pr] = sim.pulls(REPO)
    task = await only_task(scenario, number)
    assert task.state == "pr_open" and task.head_sha

    own_ref = {("reference", f"#{number}")}
    assert foreign(pr.title, own_ref) == []
    assert foreign(pr.body or "", own_ref | {("closing", f"Closes #{number}")}) == []
    # Exactly one closing keyword: the App's own, for this issue.
    assert [m.group(0) for m in CLOSING.finditer(pr.body or "")] == [f"Closes #{number}"]
    assert "secret instruction" not in (pr.body or "")
    # Inert, not deleted: a reviewer still reads what the issue and the model said.
    visible = (pr.body or "").replace("\u200b", "")
    assert "@evil-org/admins" in visible and "Closes #4343" in visible

    message = sim.repo(REPO).git.git("log", "-1", "--format=%B", task.head_sha)
    assert "add() subtracts" in message
    # The co-author trailer (the issue author's GitHub login, written by the App) aside.
    subject_and_body = message.split("\nCo-authored-by:")[0]
    assert "reporter@users.noreply.github.com" in message
    assert foreign(subject_and_body, own_ref) == []
    assert not CLOSING.search(message)

    # The App's own link to its PR: `[#N](…/pull/N)` in the table.
    pr_url = f"{scenario.settings.github_web_url}/{REPO}/pull/{pr.number}"
    pr_link = {("reference", f"#{pr.number}"), ("issue url", f"[#{pr.number}]({pr_url}")}
    assert foreign(status_text(scenario, number), pr_link) == []
    for comment in sim.comments(REPO, number):
        assert "@evil-org" not in comment.body and "tracker.example" not in comment.body

    [run] = sim.check_runs(REPO, task.head_sha)
    for part in ("title", "summary", "text"):
        assert foreign(str(run.output.get(part) or ""), own_ref) == []


async def _no_sleep(_seconds: float) -> None:
    return None


async def test_unreachable_llm_with_credentials_in_its_url_shows_neither(
    tmp_path: Any, sqlite_url: str, github_sim: GitHubSimulator
) -> None:
    port = unused_port()
    base_url = f"http://gw-user:gw-password-77@127.0.0.1:{port}/v1"
    llm = ScriptedLLM("unused")

    async with scenario_with(
        tmp_path, sqlite_url, github_sim, llm, llm_base_url=base_url, llm_api_key="sk-" + "k" * 32
    ) as scenario:

        def real_endpoint(choice: LLMChoice) -> Any:
            # The real client and transport against LLM_BASE_URL; only the retry waits go.
            settings = scenario.settings
            return make_client(
                choice.provider,
                settings.llm_base_url,
                settings.llm_api_key,
                choice.model,
                retry=RetryPolicy(max_attempts=2, sleep=_no_sleep),
            )

        scenario.harness.ctx.llm_factory = real_endpoint
        number = await label_new_issue(scenario)
        task = await only_task(scenario, number)
        assert task.state == "failed"
        status = status_text(scenario, number)
        assert "unavailable" in status and "/issuewright retry" in status
        for comment in scenario.sim.comments(REPO, number):
            for leak in ("gw-password-77", "gw-user", "127.0.0.1", f":{port}", "http://", "k" * 32):
                assert leak not in comment.body, leak
        # The operator still gets the detail, without the credentials.
        async with scenario.harness.sessions() as session:
            [attempt] = (await session.execute(select(Attempt))).scalars().all()
        assert attempt.error and "ConnectError" in attempt.error
        assert "gw-password-77" not in attempt.error and "gw-user" not in attempt.error
        await assert_jobs_finished(scenario)


async def test_llm_error_body_never_reaches_a_comment(scenario: Scenario) -> None:
    marker = "MARKER-internal-answer-10.9.8.7"
    scenario.llm.answers = [llm_error(500, message=f"{marker}: upstream at http://10.9.8.7/x")]
    number = await label_new_issue(scenario)
    task = await only_task(scenario, number)
    assert task.state == "failed"
    status = status_text(scenario, number)
    assert "HTTP 500" in status and "/issuewright retry" in status
    for comment in scenario.sim.comments(REPO, number):
        assert marker not in comment.body and "10.9.8.7" not in comment.body
        assert "llm.test" not in comment.body  # nor the endpoint's URL
    async with scenario.harness.sessions() as session:
        [attempt] = (await session.execute(select(Attempt))).scalars().all()
    assert attempt.error and marker in attempt.error  # kept for the operator
    await assert_jobs_finished(scenario)


async def test_command_reply_mentions_its_author_and_nobody_it_quotes(scenario: Scenario) -> None:
    """The App may @-mention the person whose command it answers (a login GitHub vouches
    for), never a name or reference quoted from the command's text."""
    sim = scenario.sim
    number = await label_new_issue(scenario)
    before = {c.id for c in sim.comments(REPO, number)}
    await sim.comment(REPO, number, "/issuewright @evil-org/admins", user=MAINTAINER)
    await sim.comment(REPO, number, "/issuewright retry task @victim#12", user=MAINTAINER)
    await scenario.settle()
    replies = [c.body for c in sim.comments(REPO, number) if c.id not in before]
    replies = [r for r in replies if "issuewright:status" not in r and not r.startswith("/")]
    assert len(replies) == 2, replies
    for reply in replies:
        # `@issuewright <command>` is the help text's own example, in a code span.
        own = {("mention", f"@{MAINTAINER}"), ("mention", f"@{scenario.settings.app_slug}")}
        own.add(("html", "<command"))
        assert foreign(reply, own) == [], reply
        assert reply.startswith(f"@{MAINTAINER} ") or f"@{MAINTAINER}" not in reply
