"""`issuewright plan` shows the plan the app would make for the same issue and commit: the
checkout's prompt overrides, the budget gate's pricing, the limits and the notes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.test_plan_cli import BUG_REPORT, TASK_LIST, make_repo, plan_json, write


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `.env` and no LLM settings from the machine; an operator LLM at a known price."""
    for name in list(os.environ):
        if name.startswith(("LLM_", "GITHUB_", "DATABASE_", "MAX_")) or name in {"ENV_FILE"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("LLM_PRICING", "gpt-4o-mini:100:400")


def test_each_task_is_priced_with_max_output_tokens_reserved_as_the_budget_gate_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {".github/issuewright.yml": "max_output_tokens: 3000\n"})
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert len(result["tasks"]) == 3
    for task in result["tasks"]:
        est = task["estimate"]
        assert est["output_tokens"] == 3000
        assert est["cost_usd"] == pytest.approx((est["input_tokens"] * 100 + 3000 * 400) / 1e6)
    assert result["estimate"]["output_tokens"] == 9000
