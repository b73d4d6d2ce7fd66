"""`issuewright apply` refuses what the app would refuse in that repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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
