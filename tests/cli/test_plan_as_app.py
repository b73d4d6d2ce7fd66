"""`issuewright plan` shows the plan the app would make for the same issue and commit: the
checkout's prompt overrides, the budget gate's pricing, the limits and the notes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.prompts.templates import OVERRIDE_DIR
from tests.cli.test_checkout import git
from tests.cli.test_plan_cli import BUG_REPORT, ROOT, TASK_LIST, make_repo, plan_json, write


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


OVERRIDE = (ROOT / "prompts" / "bug_fix.md.j2").read_text().replace("version: 1\n", "version: 7\n")


def test_the_checkouts_prompt_overrides_are_used_as_committed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app renders with the overrides of the commit it works from; so does the preview,
    and an override that is not committed yet shows only with --worktree."""
    repo = make_repo(tmp_path, {f"{OVERRIDE_DIR}/bug_fix.md.j2": OVERRIDE})
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "calc")
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    args = ["--issue-file", str(issue), "--title", "calc.add is wrong", "--repo", str(repo)]
    [task] = plan_json(capsys, *args)["tasks"]
    assert task["template"] == {"id": "bug_fix", "version": 7}

    (repo / OVERRIDE_DIR / "bug_fix.md.j2").write_text(OVERRIDE.replace("version: 7", "version: 8"))
    [task] = plan_json(capsys, *args)["tasks"]
    assert task["template"]["version"] == 7  # HEAD, as the app will read it
    [task] = plan_json(capsys, *args, "--worktree")["tasks"]
    assert task["template"]["version"] == 8


def test_an_override_that_is_not_used_is_a_note_as_on_the_issue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = OVERRIDE.replace("task_type: bug_fix", "task_type: feature")
    repo = make_repo(tmp_path, {f"{OVERRIDE_DIR}/bug_fix.md.j2": broken})
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert result["tasks"][0]["template"] == {"id": "bug_fix", "version": 1}
    [note] = result["problems"]
    assert f"{OVERRIDE_DIR}/bug_fix.md.j2" in note and "was not used" in note


def test_limits_are_the_repositorys_under_the_operators_ceilings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_OUTPUT_TOKENS", "2048")
    config = "max_output_tokens: 8000\nmax_tasks_per_issue: 2\n"
    repo = make_repo(tmp_path, {".github/issuewright.yml": config})
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert result["limits"]["max_output_tokens"] == 2048
    assert result["limits"]["max_tasks_per_issue"] == 2
    assert result["tasks"] == [] and "the limit is 2" in result["message"]
    [note] = result["problems"]
    assert note.startswith("`.github/issuewright.yml`: `max_output_tokens` 8000 is above")

    assert main(["plan", "--issue-file", str(issue), "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "limits: 2 tasks per issue · 10 files per task" in out
    assert "answer ≤ 2,048 tokens" in out


def test_a_task_the_budget_gate_would_refuse_is_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {".github/issuewright.yml": "task_budget_usd: 0.5\n"})
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    [task] = result["tasks"]
    assert task["estimate"]["cost_usd"] > 0.5  # 4,096 output tokens at $400/MTok alone: $1.64
    [note] = result["problems"]
    assert note.startswith("The budget gate would refuse task 1:")
    assert "`task_budget_usd` $0.50" in note
