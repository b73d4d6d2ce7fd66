"""`issuewright run` keeps the app's attempt record in each attempt's folder: record.json of
the same shape as an `attempt_records` row, with the same scrubbing and caps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.attempt_record import round_separator
from bot.core.record_text import ANSWER_CAP_BYTES
from bot.store.models import AttemptRecord
from tests.cli.test_plan_cli import BUG_REPORT, write
from tests.cli.test_run_cli import FIX, REFUSAL, clean_env, llm, repo, run_json

__all__ = ["clean_env", "llm", "repo"]  # the fixtures of test_run_cli, used here

KEY = "opaque-credential-4242"  # shaped like no known token: only settings know it
RECORD_FIELDS = {c.name for c in AttemptRecord.__table__.columns} - {"attempt_id", "updated_at"}


def attempt_folder(repo: Path, report: dict[str, Any]) -> Path:
    return repo / ".issuewright" / "runs" / report["run_id"] / "task-1" / "attempt-1"


def test_a_run_keeps_the_apps_record_without_secrets(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    llm: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llm(FIX.replace("SUMMARY: add adds", f"SUMMARY: add adds (see {KEY})"))
    monkeypatch.setenv("LLM_API_KEY", KEY)
    issue = write(tmp_path, "bug.md", f"# calc.add is wrong\n\n{BUG_REPORT}\nSee {KEY}.\n")
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 0
    folder = attempt_folder(repo, report)
    record = json.loads((folder / "record.json").read_text())
    assert set(record) == RECORD_FIELDS
    assert record["system_prompt"] and "calc.add is wrong" in record["user_prompt"]
    assert record["answer"].startswith("Here is the change.")
    assert record["outcome"]["applied"] is True and record["outcome"]["files"] == ["calc/ops.py"]
    assert "return a + b" in record["diff"]
    assert set(record["timings"]) == {"llm_s", "apply_s"}
    # Nowhere in the folder: not in the record, not in the round files.
    for path in folder.iterdir():
        assert KEY not in path.read_text(), path.name


def test_a_refused_run_keeps_both_rounds_and_the_reasons(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    llm(REFUSAL)
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 1
    record = json.loads((attempt_folder(repo, report) / "record.json").read_text())
    assert record["answer"] == REFUSAL + round_separator(2) + REFUSAL
    assert record["outcome"]["applied"] is False and len(record["outcome"]["rounds"]) == 2
    assert record["outcome"]["refused"] == ["the answer contains no edit blocks"]
    assert round_separator(2) in record["user_prompt"] and record["diff"] is None


def test_a_long_answer_is_cut_with_a_visible_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    llm(FIX + "More words about it.\n" * 20_000)
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 0
    folder = attempt_folder(repo, report)
    record = json.loads((folder / "record.json").read_text())
    marker = f"cut at {ANSWER_CAP_BYTES // 1024} KB"
    assert record["answer"].endswith(marker)
    assert (folder / "round-1-answer.md").read_text().endswith(marker)
