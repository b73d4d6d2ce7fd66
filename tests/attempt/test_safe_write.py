"""`issuewright apply` on real temporary git checkouts: hostile answers are refused with a
message and leave the tree exactly as it was; good answers apply; --dry-run writes nothing."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from bot.attempt import safe_write as safety
from bot.cli.apply import cli_apply
from tests.git.conftest import make_repo, run_git, snapshot

PY = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"


def block(path: str, search: str, replace: str) -> str:
    return f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "calc.py": PY,
            "README.md": "# Calc\n",
            "config.json": '{"a": 1}\n',
            "tools/run.sh": "#!/bin/sh\necho run\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
        },
    )


def apply_and_capture(
    capsys: pytest.CaptureFixture[str],
    repo: Path,
    text: str | bytes,
    tmp_path: Path,
    *,
    dry_run: bool = False,
    as_json: bool = False,
) -> tuple[int, str]:
    answer = tmp_path / "answer.md"
    answer.write_bytes(text.encode() if isinstance(text, str) else text)
    code = cli_apply(repo, str(answer), dry_run, as_json)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


HOSTILE = {
    "dotdot": (block("../../etc/passwd", "", "root::0:0::/:/bin/sh\n"), "'..' is not allowed"),
    "absolute": (block("/etc/passwd", "", "x\n"), "absolute paths are not allowed"),
    "git-hook": (block(".git/hooks/pre-commit", "", "#!/bin/sh\nrm -rf /\n"), "under .git/"),
    "nested-git": (block("sub/.GIT/config", "", "x\n"), "under .git/"),
    "workflow": (block(".github/workflows/x.yml", "", "on: push\n"), "denied by configuration"),
    "workflow-case": (block(".GitHub/Workflows/x.yml", "", "on: push\n"), "denied"),
    "nul": (block("data.txt", "", "a\x00b\n"), "NUL bytes"),
    "twice": (block("calc.py", "    return a - b\n", "    return a + b\n"), "matches 2 times"),
    "no-match": (block("calc.py", "    return a * b\n", "    return a + b\n"), "does not match"),
    "py-syntax": (block("calc.py", "def add(a, b):\n", "def add(a, b:\n"), "Python syntax error"),
    "new-py-syntax": (block("new.py", "", "def f(:\n"), "Python syntax error"),
    "json-syntax": (block("config.json", '{"a": 1}\n', '{"a": 1,\n'), "JSON error"),
    "binary-existing": (block("logo.png", "PNG\n", "x\n"), "binary or not UTF-8"),
    "parse-error": ("calc.py\n```\n<<<<<<< SEARCH\nx\n```\n", "answer line 3"),
    "two-files-second-fails": (
        block("calc.py", "def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n")
        + block("README.md", "# Nope\n", "# Calc 2\n"),
        "README.md: SEARCH does not match",
    ),
    "delete-workflow": (".github/workflows/ci.yml\n```\n<<<<<<< DELETE FILE\n```\n", "denied"),
    "rename-into-git": ("README.md\n```\n<<<<<<< RENAME TO .git/README.md\n```\n", ".git/"),
    "five-mb": (block("big.txt", "", ("x" * 99 + "\n") * 50_000), "over the 1,000,000-byte"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_answers_are_refused_and_the_tree_is_unchanged(
    case: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, fragment = HOSTILE[case]
    before = snapshot(repo)
    code, out = apply_and_capture(capsys, repo, text, tmp_path)
    assert code == 1, out
    assert "refused, nothing written" in out
    assert fragment is not None and fragment in out
    assert snapshot(repo) == before
    assert run_git(repo, "status", "--porcelain") == ""


def test_nothing_is_written_outside_the_repository(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "link").symlink_to(outside)  # a directory link pointing outside the checkout
    (repo / "notes.txt").symlink_to(outside / "secret.txt")
    (outside / "secret.txt").write_text("secret\n")
    before, outside_before = snapshot(repo), snapshot(outside)
    for text in (
        block("link/evil.py", "", "x = 1\n"),
        block("notes.txt", "secret\n", "pwned\n"),
        "notes.txt\n```\n<<<<<<< DELETE FILE\n```\n",
    ):
        code, out = apply_and_capture(capsys, repo, text, tmp_path)
        assert code == 1 and "symbolic link" in out, out
    assert snapshot(repo) == before and snapshot(outside) == outside_before


def test_symlink_inside_the_repository_is_refused_too(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "alias.py").symlink_to("calc.py")
    code, out = apply_and_capture(capsys, repo, block("alias.py", "", "x = 1\n"), tmp_path)
    assert code == 1 and "alias.py: alias.py is a symbolic link" in out


def test_non_utf8_answer_content_is_refused(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = block("data.txt", "", "caf\xe9\n").encode("latin-1")
    before = snapshot(repo)
    code, out = apply_and_capture(capsys, repo, text, tmp_path)
    assert code == 1 and "not valid UTF-8" in out
    assert snapshot(repo) == before


GOOD = (
    "Fixing the bug.\n\n"
    + block("calc.py", "def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n")
    + block("pkg/new.py", "", "VALUE = 1\n\n\ndef get():\n    return VALUE\n")
    + "README.md\n```\n<<<<<<< DELETE FILE\n```\n"
    + "tools/run.sh\n```\n<<<<<<< RENAME TO bin/run.sh\n<<<<<<< SEARCH\necho run\n=======\n"
    + "echo running\n>>>>>>> REPLACE\n```\n"
    + "SUMMARY: fixed add\n"
)


def test_a_good_answer_applies(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chmod(repo / "tools/run.sh", 0o755)
    code, out = apply_and_capture(capsys, repo, GOOD, tmp_path)
    assert code == 0, out
    assert [line.split() for line in out.splitlines()] == [
        ["action", "path", "added", "removed"],
        ["modify", "calc.py", "1", "1"],
        ["create", "pkg/new.py", "5", "0"],
        ["delete", "README.md", "0", "1"],
        ["rename", "tools/run.sh", "->", "bin/run.sh", "1", "1"],
    ]
    assert (repo / "calc.py").read_text().startswith("def add(a, b):\n    return a + b\n")
    assert (repo / "pkg/new.py").read_text().endswith("return VALUE\n")
    assert not (repo / "README.md").exists() and not (repo / "tools/run.sh").exists()
    assert (repo / "bin/run.sh").read_text() == "#!/bin/sh\necho running\n"
    assert stat.S_IMODE((repo / "bin/run.sh").stat().st_mode) == 0o755  # mode kept on rename
    leftovers = [p for p in repo.rglob(".issuewright-*")]
    assert leftovers == []


def test_dry_run_prints_the_same_and_writes_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    code, out = apply_and_capture(capsys, repo, GOOD, tmp_path, dry_run=True)
    assert code == 0
    assert ["modify", "calc.py", "1", "1"] in [line.split() for line in out.splitlines()]
    assert out.rstrip().endswith("dry run: nothing written")
    assert snapshot(repo) == before


def test_json_output(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = apply_and_capture(capsys, repo, GOOD, tmp_path, dry_run=True, as_json=True)
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["problems"] == []
    first = data["changes"][0]
    diff = first.pop("diff")
    assert first == {"path": "calc.py", "action": "modify", "added": 1, "removed": 1}
    assert diff.startswith("diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ ")
    assert data["changes"][3]["from"] == "tools/run.sh"
    assert data["summary"] == "fixed add"

    code, out = apply_and_capture(capsys, repo, HOSTILE["twice"][0], tmp_path, as_json=True)
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["changes"] == []
    assert data["problems"][0]["path"] == "calc.py"
    assert "matches 2 times" in data["problems"][0]["reason"]


def test_whitespace_fallback_is_a_note(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The model indented its copy by two more spaces than the file has.
    search, replace = (
        "  def sub(a, b):\n      return a - b\n",
        "  def sub(a, b):\n      return b - a\n",
    )
    code, out = apply_and_capture(capsys, repo, block("calc.py", search, replace), tmp_path)
    assert code == 0, out
    assert "note: calc.py: SEARCH at answer line 3 matched only with '  ' less indent" in out
    assert (repo / "calc.py").read_text().endswith("def sub(a, b):\n    return b - a\n")


def test_file_that_did_not_parse_before_may_stay_unparsable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "r", {"broken.py": "def f(:\n    pass\n"})
    code, out = apply_and_capture(
        capsys, repo, block("broken.py", "    pass\n", "    ...\n"), tmp_path
    )
    assert code == 0, out


def test_answer_from_stdin(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode())))
    assert cli_apply(repo, "-", dry_run=True, as_json=False) == 0
    assert "create  pkg/new.py" in capsys.readouterr().out


def test_settings_are_parameters(repo: Path, tmp_path: Path) -> None:
    answer = tmp_path / "a.md"
    answer.write_text(block("docs/x.md", "", "x\n" * 100))
    assert cli_apply(repo, str(answer), True, False, denied_paths=("docs/",)) == 1
    assert cli_apply(repo, str(answer), True, False, max_file_bytes=50) == 1
    assert cli_apply(repo, str(answer), True, False) == 0


def test_subdirectory_of_a_checkout_uses_its_top_level(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = apply_and_capture(capsys, repo / "tools", GOOD, tmp_path, dry_run=True)
    assert code == 0 and "modify  calc.py" in out


def test_unusable_input_exits_2(
    tmp_path: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = tmp_path / "a.md"
    answer.write_text(GOOD)
    plain = tmp_path / "plain"
    plain.mkdir()
    cases = [
        (tmp_path / "missing", str(answer), "does not exist"),
        (plain, str(answer), "is not a git checkout"),
        (repo, str(tmp_path / "nope.md"), "cannot be read"),
    ]
    for repo_dir, answer_path, fragment in cases:
        assert cli_apply(repo_dir, answer_path, False, False) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and fragment in err


def test_a_write_failing_midway_is_rolled_back(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = safety.plan_answer(repo, GOOD)
    assert plan.ok, plan.problems
    before = snapshot(repo)
    real_replace, calls = os.replace, []

    def failing_replace(src: str, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(safety.WriteError, match="rolled back"):
        safety.write_plan(repo, plan)
    monkeypatch.undo()
    assert snapshot(repo) == before
    assert run_git(repo, "status", "--porcelain") == ""
