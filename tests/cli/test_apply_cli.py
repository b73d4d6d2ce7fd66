"""`issuewright apply` refuses what the app would refuse in that repository."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli import table
from bot.cli.main import main

ANSWER = "docs/a.md\n```\n<<<<<<< SEARCH\nhi\n=======\nho\n>>>>>>> REPLACE\n```\n"


def make_checkout(root: Path, config: str | None) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.md").write_text("hi\n")
    if config is not None:
        (root / ".github").mkdir()
        (root / ".github" / "issuewright.yml").write_text(config)
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "i",
        ],
        check=True,
        env=env,
    )
    return root


def test_the_checkouts_denied_paths_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_checkout(tmp_path / "r", "denied_paths: ['docs/']\n")
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER)
    assert main(["apply", "--repo", str(repo), "--answer", str(answer)]) == 1
    assert "docs/a.md: the path is denied by configuration" in capsys.readouterr().out
    assert (repo / "docs" / "a.md").read_text() == "hi\n"


def test_without_config_the_same_answer_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_checkout(tmp_path / "r", None)
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER)
    assert main(["apply", "--repo", str(repo), "--answer", str(answer)]) == 0
    assert (repo / "docs" / "a.md").read_text() == "ho\n"


INSERT = (
    "docs/a.md\n```\n<<<<<<< SEARCH\nhi\n=======\nhi\nand more\n>>>>>>> REPLACE\n```\n"
    "SUMMARY: say more\n"
)


def test_dry_run_prints_the_unified_diff_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_checkout(tmp_path / "r", None)
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER)
    argv = ["apply", "--repo", str(repo), "--answer", str(answer), "--dry-run"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "--- a/docs/a.md\n+++ b/docs/a.md\n@@ -1 +1 @@\n-hi\n+ho\n" in out
    assert out.endswith("dry run: nothing written\n")
    assert (repo / "docs" / "a.md").read_text() == "hi\n"

    assert main([*argv, "--json"]) == 0
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert change["diff"].endswith("@@ -1 +1 @@\n-hi\n+ho\n")


def test_dry_run_diff_is_coloured_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = io.StringIO()
    console = Console(file=shown, force_terminal=True, width=100)
    monkeypatch.setattr(table, "stdout_console", lambda: console)
    repo = make_checkout(tmp_path / "r", None)
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER)
    assert main(["apply", "--repo", str(repo), "--answer", str(answer), "--dry-run"]) == 0
    assert "\x1b[32m+ho" in shown.getvalue() and "\x1b[31m-hi" in shown.getvalue()


@pytest.mark.parametrize("text", [INSERT, ANSWER], ids=["insertion", "replacement"])
def test_applying_an_answer_twice_says_so_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    repo = make_checkout(tmp_path / "r", None)
    answer = tmp_path / "answer.txt"
    answer.write_text(text)
    argv = ["apply", "--repo", str(repo), "--answer", str(answer)]
    assert main(argv) == 0
    once = (repo / "docs" / "a.md").read_text()
    assert once != "hi\n"
    capsys.readouterr()

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out == (
        "already applied: the checkout holds every edit of this answer; nothing written\n"
    )
    assert (repo / "docs" / "a.md").read_text() == once  # not inserted a second time

    assert main([*argv, "--dry-run", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["already_applied"] and doc["changes"] == []
