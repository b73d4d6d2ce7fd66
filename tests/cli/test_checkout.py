"""`plan --repo` and `context rank` read a checkout as the app will: its committed tree at
HEAD, never git-ignored or uncommitted files; `--worktree` adds uncommitted files (still not
git-ignored ones)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from tests.cli.test_plan_cli import CALC, write

QUERY = "the frobnicator overflows: frobnicate_widgets() returns a negative count"
FROB = "def frobnicate_widgets(count):\n    # frobnicator: widgets overflow\n    return -count\n"


def git(root: Path, *args: str) -> str:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    done = subprocess.run(
        ["git", "-C", str(root), *ident, *args], check=True, env=env, capture_output=True
    )
    return done.stdout.decode().strip()


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """calc, committed; then a git-ignored build file, an untracked file and a deleted one,
    all about the frobnicator, and an uncommitted config change."""
    for name in ("LLM_PROVIDER", "LLM_MODEL", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "calc"
    for name, text in {
        **CALC,
        ".gitignore": "build/\n",
        "calc/frob_old.py": FROB,
        ".github/issuewright.yml": "max_tasks_per_issue: 3\n",
    }.items():
        write(root, name, text)
    git(tmp_path, "init", "-q", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "calc")
    write(root, "build/lib/calc/frob.py", FROB)  # ignored
    write(root, "calc/frob_new.py", FROB)  # untracked
    (root / "calc" / "frob_old.py").unlink()  # deleted, not committed
    write(
        root, ".github/issuewright.yml", "max_tasks_per_issue: 3\ncolour: blue\n"
    )  # not committed
    return root


def rank(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> dict[str, Any]:
    query = write(root.parent, "query.md", QUERY)
    argv = ["context", "rank", "--repo", str(root), "--query-file", str(query), "--json"]
    assert main([*argv, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_context_rank_reads_the_committed_tree(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = rank(capsys, checkout)
    paths = {r["path"] for r in doc["ranked"]}
    assert "calc/frob_old.py" in paths  # committed, though deleted on disk
    assert not paths & {"calc/frob_new.py", "build/lib/calc/frob.py"}
    assert doc["repository"] == {
        "path": str(checkout),
        "read": "HEAD",
        "commit": git(checkout, "rev-parse", "HEAD"),
    }


def test_worktree_adds_uncommitted_files_but_not_ignored_ones(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = rank(capsys, checkout, "--worktree")
    paths = {r["path"] for r in doc["ranked"]}
    assert "calc/frob_new.py" in paths
    assert not paths & {"calc/frob_old.py", "build/lib/calc/frob.py"}
    assert doc["repository"]["read"] == "worktree"


def test_plan_reads_files_and_configuration_at_head(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = str(write(checkout.parent, "issue.md", QUERY))
    assert main(["plan", "--issue-file", issue, "--repo", str(checkout), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [task] = doc["tasks"]
    assert "calc/frob_old.py" in task["files"] and "calc/frob_new.py" not in task["files"]
    assert doc["problems"] == []  # the committed configuration, not the edited one
    assert doc["repository"]["read"] == "HEAD"

    argv = ["plan", "--issue-file", issue, "--repo", str(checkout), "--worktree", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    [task] = doc["tasks"]
    assert "calc/frob_new.py" in task["files"] and "calc/frob_old.py" not in task["files"]
    assert any("colour" in problem for problem in doc["problems"])


def test_text_output_says_what_was_read(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issue = str(write(checkout.parent, "issue.md", QUERY))
    assert main(["plan", "--issue-file", issue, "--repo", str(checkout)]) == 0
    head = git(checkout, "rev-parse", "HEAD")[:12]
    assert f"files: {checkout} at HEAD {head} (uncommitted changes left out" in (
        capsys.readouterr().out
    )


def test_a_checkout_without_commits_says_to_commit_or_use_worktree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "fresh"
    write(root, "a.py", FROB)
    git(tmp_path, "init", "-q", str(root))
    query = str(write(tmp_path, "q.md", QUERY))
    argv = ["context", "rank", "--repo", str(root), "--query-file", query]
    assert main(argv) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("issuewright: error: ") and "no commit yet" in line
    assert "--worktree" in line
    assert main([*argv, "--worktree", "--json"]) == 0
    assert [r["path"] for r in json.loads(capsys.readouterr().out)["ranked"]] == ["a.py"]
