"""Progress for the slow part (the repository map, ranking) goes to stderr, and only when
stderr is a terminal; stdout stays the command's output either way."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli import progress
from bot.cli.main import main
from tests.cli.test_plan_cli import BUG_REPORT, make_repo, write


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LLM_PROVIDER", "LLM_MODEL", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def commands(tmp_path: Path) -> list[list[str]]:
    repo, issue = str(make_repo(tmp_path)), str(write(tmp_path, "bug.md", BUG_REPORT))
    return [
        ["plan", "--issue-file", issue, "--repo", repo, "--json"],
        ["context", "rank", "--repo", repo, "--query-file", issue, "--json"],
    ]


def test_progress_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in commands(tmp_path):
        shown = io.StringIO()
        console = Console(file=shown, force_terminal=True, width=120)
        monkeypatch.setattr(progress, "stderr_console", lambda c=console: c)
        assert main(argv) == 0
        assert "for the repository map…" in shown.getvalue()
        assert json.loads(capsys.readouterr().out)["version"]  # stdout is untouched


def test_no_progress_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in commands(tmp_path):
        assert main(argv) == 0
        out = capsys.readouterr()
        assert out.err == "" and json.loads(out.out)["version"]
