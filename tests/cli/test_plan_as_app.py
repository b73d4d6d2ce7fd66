"""`issuewright plan` shows the plan the app would make for the same issue and commit: the
checkout's prompt overrides, the budget gate's pricing, the limits and the notes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.prompts.templates import OVERRIDE_DIR
from tests.cli.test_checkout import git
from tests.cli.test_plan_cli import BUG_REPORT, ROOT, TASK_LIST, make_repo, plan_json, write
from tests.llm_stub import chat_completion
from tests.recording_server import Recorded, recording_server


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


# ---------------------------------------------------------------- llm_plan

GROUPED = {"tasks": [{"items": [1, 4], "depends_on": []}, {"items": [3], "depends_on": [1]}]}
LLM_PLAN = "llm_plan: true\n"


def llm_answering(content: str) -> Any:
    def answer(request: Recorded) -> tuple[int, Any]:
        body = json.loads(request.body)
        prompt = sum(len(m["content"]) for m in body["messages"])
        return 200, chat_completion(content, body["model"], prompt // 4, len(content) // 4)

    return answer


def test_with_llm_plan_the_preview_says_the_app_would_ask_and_calls_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {".github/issuewright.yml": LLM_PLAN})
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    with recording_server(llm_answering(json.dumps(GROUPED))) as server:
        monkeypatch.setenv("LLM_BASE_URL", server.url + "/v1")
        result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
        assert server.requests == []
    assert [t["ordinal"] for t in result["tasks"]] == [1, 3, 4]  # the rules' plan
    why = result["reasons"][0]
    assert why.startswith("Rule-based plan shown: with `llm_plan` the app asks gpt-4o-mini")
    assert "group the 3 open items (one call, up to $0." in why and "add --llm" in why
    assert "llm_call" not in result


def test_llm_asks_the_model_as_the_app_would_and_uses_a_good_grouping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {".github/issuewright.yml": LLM_PLAN})
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    with recording_server(llm_answering(json.dumps(GROUPED))) as server:
        monkeypatch.setenv("LLM_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("LLM_API_KEY", "sk-test-not-real")
        result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo), "--llm")
        [request] = server.requests
    sent = json.loads(request.body)
    assert sent["model"] == "gpt-4o-mini" and sent["response_format"]["type"] == "json_schema"
    assert [(t["ordinal"], t["items"], t["depends_on"]) for t in result["tasks"]] == [
        (1, [1, 4], []),
        (3, [3], [1]),
    ]
    assert result["reasons"][0].startswith("2 tasks: gpt-4o-mini grouped the 3 open items")
    call = result["llm_call"]
    assert call["used"] is True and call["cost_usd"] == pytest.approx(
        (call["input_tokens"] * 100 + call["output_tokens"] * 400) / 1e6
    )


def test_llm_with_a_bad_answer_shows_the_rule_based_plan_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path, {".github/issuewright.yml": LLM_PLAN})
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    bad = {"tasks": [{"items": [1, 2], "depends_on": []}]}  # 2 is checked (done)
    with recording_server(llm_answering(json.dumps(bad))) as server:
        monkeypatch.setenv("LLM_BASE_URL", server.url + "/v1")
        assert main(["plan", "--issue-file", str(issue), "--repo", str(repo), "--llm"]) == 0
    out = capsys.readouterr().out
    assert "why: Rule-based plan: gpt-4o-mini's grouping was not used: it plans item 2" in out
    assert out.splitlines()[-1].startswith("llm: asked gpt-4o-mini to group the items: ")


def test_llm_when_llm_plan_is_off_is_an_error_saying_how_to_turn_it_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    assert main(["plan", "--issue-file", str(issue), "--repo", str(repo), "--llm"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("issuewright: error: --llm ") and "`llm_plan: true`" in line
