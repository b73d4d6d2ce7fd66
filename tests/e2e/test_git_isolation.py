"""Through the app: a tenant's repository whose `.gitattributes` names a filter driver that
the operator's git configuration defines (system file, ~/.gitconfig, XDG config,
GIT_CONFIG_GLOBAL, GIT_CONFIG_PARAMETERS) gets its PR, and the driver never runs on the
server during the app's fetch, checkout, commit and push."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import MAINTAINER, REPO, Scenario
from tests.e2e.pipeline_helpers import assert_jobs_finished, label_new_issue, only_task
from tests.git import hostile_git


@pytest.mark.parametrize("source", hostile_git.SOURCES)
async def test_the_operators_filter_drivers_never_run_for_a_tenant(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    sim = scenario.sim
    sim.repo(REPO).git.commit_files(
        "main", {".gitattributes": hostile_git.ATTRIBUTES}, "attributes", sim.author(MAINTAINER)
    )
    hostile = hostile_git.install(tmp_path / "hostile", monkeypatch, source)
    hostile_git.plain_git_runs_it(hostile, tmp_path / "sanity", source)

    number = await label_new_issue(scenario)

    assert hostile.ran() == []
    [pr] = sim.pulls(REPO)
    task = await only_task(scenario)
    assert task.state == "pr_open" and task.pr_number == pr.number
    fixed = sim.read_file(REPO, f"issuewright/{number}-1", "calc/ops.py")
    assert fixed is not None and "return a + b" in fixed
    await assert_jobs_finished(scenario)
