"""Hostile repository YAML through the app: an alias bomb, deep nesting, a 1 MB file and bytes
that are not UTF-8 each become one short note on the issue, defaults plan the issue, and the
stored run stays small."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.store.models import IssueRun
from tests.e2e.conftest import CALC_FILES, MAINTAINER, Scenario
from tests.e2e.planning_helpers import PLAN_LABEL, TASK_LIST, other_repo, status_of
from tests.hostile import alias_bomb, deep

HOSTILE: dict[str, tuple[str | bytes, str]] = {
    "alias-bomb": (alias_bomb(), "alias"),
    "nested-500": (deep(500), "deep"),
    "one-megabyte": ("instructions: '" + "x" * 1_000_000 + "'\n", "byte limit"),
    "not-utf8": (b"llm_provider: openai\ntrigger_label: \xff\xfe\xfd\n", "not UTF-8"),
}


@pytest.mark.parametrize(("config", "words"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_config_is_one_short_note_and_defaults_plan_the_issue(
    scenario: Scenario, config: str | bytes, words: str
) -> None:
    sim = scenario.sim
    repo = other_repo(sim, {**CALC_FILES, ".github/issuewright.yml": config})  # type: ignore[dict-item]
    issue = await sim.open_issue(repo, "Add mul and div", TASK_LIST)
    await sim.label_issue(repo, issue.number, PLAN_LABEL, user=MAINTAINER)
    await scenario.settle()

    body = status_of(sim, repo, issue.number).body
    notes = body.split("**Notes**", 1)[1]
    [line] = [n for n in notes.splitlines() if ".github/issuewright.yml" in n and words in n]
    assert len(line) < 300
    assert "Add `mul(a, b)`" in body  # the defaults planned the issue
    assert len(body) < 5000
    async with scenario.harness.sessions() as session:
        [run] = (await session.execute(select(IssueRun))).scalars()
    assert len(run.notes) == 1 and len(run.notes[0]) < 300
    assert scenario.llm.requests == []
