"""`issuewright plan` on a checkout shows the plan the app makes for the same issue at the same
commit: the same tasks, templates and versions (the checkout's prompt overrides), estimate
(the budget gate's pricing), limits (the operator's ceilings over the repository's config)
and notes. The app plans through the GitHub simulator; the command line reads a clone of the
simulator's repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.core.policy import Ceilings
from bot.store.models import Event
from tests.e2e.conftest import CALC_FILES, MAINTAINER, TEST_ENDPOINT, scenario_with
from tests.e2e.planning_helpers import OTHER, PLAN_LABEL, other_repo, status_of
from tests.ghsim.simulator import GitHubSimulator
from tests.llm_stub import ScriptedLLM

OVERRIDE = (Path(__file__).resolve().parents[2] / "prompts" / "bug_fix.md.j2").read_text()
OVERRIDE = OVERRIDE.replace("version: 1\n", "version: 7\n", 1).replace(
    "# Fix a bug:", "# Fix this bug (house style):", 1
)

CONFIG = """llm_endpoint: test-openai
llm_model: gpt-4o-mini
max_output_tokens: 2000
max_tasks_per_issue: 40
task_budget_usd: 0.1
colour: blue
"""

ISSUE = """Two things before 0.4.

## Tasks
- [ ] Fix `add` in `calc/ops.py`: it returns the difference instead of the sum
- [ ] Add `mul(a, b)` to `calc/ops.py`
- [ ] Add tests for `mul`
- [x] Export `sub` from `calc/__init__.py`

## Acceptance criteria
- `add(2, 3) == 5`
"""

PRICES = (("gpt-4o-mini", 30.0, 60.0),)  # high enough that the budget gate speaks
CEILINGS = Ceilings(max_tasks_per_issue=8)

# The same operator settings, as the environment the command line reads.
OPERATOR_ENV = {
    "LLM_ENDPOINTS": TEST_ENDPOINT.name,
    "LLM_ENDPOINT_TEST_OPENAI_PROVIDER": "openai",
    "LLM_ENDPOINT_TEST_OPENAI_BASE_URL": str(TEST_ENDPOINT.base_url),
    "LLM_ENDPOINT_TEST_OPENAI_MODELS": "*",
    "LLM_PRICING": "gpt-4o-mini:30:60",
    "MAX_TASKS_PER_ISSUE": "8",
}


def clone(url: str, tmp_path: Path) -> Path:
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", url, str(checkout)], check=True, capture_output=True)
    return checkout


def cli_plan(
    capsys: pytest.CaptureFixture[str], checkout: Path, title: str, body: Path, number: int
) -> dict[str, Any]:
    argv = ["plan", "--repo", str(checkout), "--issue-file", str(body), "--title", title]
    argv += ["--name", OTHER, "--number", str(number), "--label", PLAN_LABEL, "--json"]
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


async def test_plan_preview_of_a_checkout_is_the_apps_plan(
    tmp_path: Path,
    sqlite_url: str,
    github_sim: GitHubSimulator,
    llm: ScriptedLLM,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = {
        **CALC_FILES,
        ".github/issuewright.yml": CONFIG,
        ".github/issuewright/prompts/bug_fix.md.j2": OVERRIDE,
    }
    async with scenario_with(
        tmp_path, sqlite_url, github_sim, llm, llm_pricing_overrides=PRICES, ceilings=CEILINGS
    ) as scenario:
        repo = other_repo(github_sim, files)
        title = "Fix add, then multiply"
        issue = await github_sim.open_issue(repo, title, ISSUE)
        await github_sim.label_issue(repo, issue.number, PLAN_LABEL, user=MAINTAINER)
        await scenario.settle()
        status = status_of(github_sim, repo, issue.number).body
        async with scenario.harness.sessions() as session:
            [event] = (await session.execute(select(Event).where(Event.stage == "planned"))).all()
        app = event[0].data["plan"]

    checkout = clone(github_sim.git_url_template.format(owner="octo-org", repo="other"), tmp_path)
    for name in ("LLM_PROVIDER", "LLM_MODEL", "LLM_ENDPOINTS", "LLM_PRICING", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in OPERATOR_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ISSUEWRIGHT_CACHE_DIR", str(tmp_path / "cli-cache"))
    monkeypatch.chdir(tmp_path)
    body = tmp_path / "issue.md"
    body.write_text(ISSUE)
    cli = cli_plan(capsys, checkout, title, body, issue.number)
    del cli["repository"], cli["version"]

    assert cli == app  # tasks, files, templates, estimate, limits, notes, reasons: all of it
    # …and it is the plan people see: the override's version, the repository's limits under
    # the operator's ceilings, the notes.
    bug, feature = app["tasks"]
    assert bug["template"] == {"id": "bug_fix", "version": 7}
    assert feature["template"] == {"id": "feature", "version": 1} and feature["items"] == [2, 3]
    assert all(t["estimate"]["output_tokens"] == 2000 for t in app["tasks"])
    assert app["limits"]["max_tasks_per_issue"] == 8 and app["limits"]["max_output_tokens"] == 2000
    notes = "\n".join(app["problems"])
    assert "colour" in notes and "`max_tasks_per_issue` 40 is above" in notes
    assert "budget gate would refuse" in notes
    assert "bug_fix v7" in status and "feature v1" in status
    for task in app["tasks"]:
        est = task["estimate"]
        assert f"{est['input_tokens']:,} / {est['output_tokens']:,}" in status
    assert "budget gate would refuse" in status and "colour" in status
