"""A job killed after its reply runs again without replying again (issue 12, cause 1).

The kill is made at the exact point that matters: the GitHub call that posts the reply has
returned, and the worker dies before anything else (the job's row stays "running" with its
lease, the command "running"), as after a SIGKILL. Once the lease has expired the job is
recovered and run again; people must still see one reply.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.github.api import GitHubAPI
from bot.store import queue
from bot.store.models import utcnow
from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.kill_helpers import Killed
from tests.e2e.tracker_helpers import command_runs, replies


@pytest.mark.parametrize(
    ("command", "outcome", "reactions"),
    [
        ("/issuewright help", "done", ["eyes", "rocket"]),  # the chaos run's case
        ("/issuewright retry", "refused", ["eyes", "confused"]),  # nothing to retry here
    ],
)
async def test_a_reply_is_not_posted_twice_when_the_job_is_re_run(
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    outcome: str,
    reactions: list[str],
) -> None:
    sim = scenario.sim
    issue = await sim.open_issue(REPO, "Question", "How do I use this?", user=MAINTAINER)
    await scenario.settle()
    real_create = GitHubAPI.create_comment

    async def create_then_die(self: GitHubAPI, *args: Any, **kw: Any) -> Any:
        await real_create(self, *args, **kw)
        raise Killed

    monkeypatch.setattr(GitHubAPI, "create_comment", create_then_die)
    asked = await sim.comment(REPO, issue.number, command, user=MAINTAINER)
    await sim.flush()
    with pytest.raises(Killed):
        await scenario.harness.drain()
    monkeypatch.setattr(GitHubAPI, "create_comment", real_create)
    assert len(replies(scenario, issue.number)) == 1
    assert [r.outcome for r in await command_runs(scenario)] == ["running"]

    later = utcnow() + timedelta(seconds=scenario.settings.job_lease_seconds + 1)
    assert await queue.recover_expired_leases(scenario.harness.sessions, now=later) == 1
    await scenario.settle()

    [reply] = replies(scenario, issue.number)
    assert f"@{MAINTAINER}" in reply or "/issuewright" in reply
    assert [r.outcome for r in await command_runs(scenario)] == [outcome]
    assert sim.reactions(REPO, issue.number, asked.id) == reactions
