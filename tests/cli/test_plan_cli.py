"""`issuewright plan`, `prompts check` and `context rank`: what a maintainer sees locally
before labelling an issue. No GitHub, no LLM, no database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.prompts.templates import TEMPLATE_IDS

ROOT = Path(__file__).resolve().parents[2]
EXE = ROOT / ".venv" / "bin" / "issuewright"

BUG_REPORT = """`calc.add` returns the wrong result: it gives the difference instead of the sum.

### Steps to reproduce
1. `from calc import add`
2. `add(2, 3)`
3. See `-1` printed

### Expected behaviour
`5`

### Actual behaviour
`-1`
"""

# GitHub's issue-form output: headings, a filled-in template, checkboxes that are not work.
FILLED_TEMPLATE = """### Is there an existing issue for this?

- [X] I have searched the existing issues

### Current Behavior

Running `calc add 2 3` prints `-1`.

### Expected Behavior

It prints `5`.

### Steps To Reproduce

1. Install calc 0.3.1
2. Run `calc add 2 3`

### Environment

- OS: Ubuntu 22.04
- Python: 3.11

### Code of Conduct

- [x] I agree to follow this project's Code of Conduct
- [ ] I would like to work on a fix
"""

TASK_LIST = """Follow-up from the 0.4 planning.

## Tasks
- [ ] Add `mul(a, b)` to `calc/ops.py`
  - [ ] with a docstring
  - [ ] and type hints
- [x] Export `sub` from `calc/__init__.py`
- [ ] Add `div(a, b)` that raises `ZeroDivisionError` on zero
- [ ] Document `mul` and `div` in the README

```markdown
- [ ] not a task: inside a code fence
```
<!-- - [ ] not a task: inside an HTML comment -->
"""

CALC = {
    "README.md": "# calc\n\nTiny arithmetic helpers.\n",
    "calc/__init__.py": "from calc.ops import add, sub\n",
    "calc/ops.py": (
        "def add(a: int, b: int) -> int:\n    return a - b\n\n\n"
        "def sub(a: int, b: int) -> int:\n    return a - b\n"
    ),
    "docs/changelog.md": "# Changelog\n\n## 0.3.1\n- first release\n",
    "setup.cfg": "[metadata]\nname = calc\n",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `.env` and no LLM settings from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("LLM_", "GITHUB_", "DATABASE_")) or name in {"ENV_FILE", "APP_ID"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_repo(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    root = tmp_path / "calc"
    for name, text in {**CALC, **(extra or {})}.items():
        write(root, name, text)
    return root


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["plan", *args, "--json"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return json.loads(out.out)


def env_for_subprocess(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "GITHUB_"))}
    return {**env, **extra}


# ---------------------------------------------------------------- issue shapes


def test_bug_report_with_numbered_steps_is_one_bug_fix_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    result = plan_json(capsys, "--issue-file", str(issue), "--title", "calc.add is wrong")
    [task] = result["tasks"]
    assert task["type"] == "bug_fix" and task["template"]["id"] == "bug_fix"
    assert task["title"] == "calc.add is wrong"
    assert task["depends_on"] == []


def test_filled_in_issue_template_checkboxes_are_not_tasks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = write(tmp_path, "form.md", FILLED_TEMPLATE)
    result = plan_json(
        capsys, "--issue-file", str(issue), "--title", "calc add prints the difference"
    )
    [task] = result["tasks"]  # the whole issue, as one task
    assert task["title"] == "calc add prints the difference"


@pytest.mark.parametrize("title", ["calc add prints the difference", "add() subtracts"])
def test_bug_report_about_a_function_named_add_is_a_bug_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], title: str
) -> None:
    issue = write(tmp_path, "form.md", FILLED_TEMPLATE)
    [task] = plan_json(capsys, "--issue-file", str(issue), "--title", title)["tasks"]
    assert task["type"] == "bug_fix"


def test_task_list_gives_one_task_per_unchecked_top_level_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    result = plan_json(capsys, "--issue-file", str(issue), "--title", "Multiply and divide")
    assert [t["title"] for t in result["tasks"]] == [
        "Add `mul(a, b)` to `calc/ops.py`",
        "Add `div(a, b)` that raises `ZeroDivisionError` on zero",
        "Document `mul` and `div` in the README",
    ]
    assert [t["type"] for t in result["tasks"]] == ["feature", "feature", "documentation"]
    # Keys are stable: the done item keeps its number, so ticking it later changes no key.
    assert [t["key"] for t in result["tasks"]] == [
        "local/repo#1/1",
        "local/repo#1/3",
        "local/repo#1/4",
    ]
    assert result["done"] == [2]


def test_json_has_the_documented_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    result = plan_json(capsys, "--issue-file", str(issue))
    assert isinstance(result["tasks"], list) and result["tasks"]
    for task in result["tasks"]:
        assert {"key", "title", "type", "depends_on", "files", "template"} <= set(task)
        assert isinstance(task["depends_on"], list) and isinstance(task["files"], list)
        assert isinstance(task["template"]["id"], str)
        assert isinstance(task["template"]["version"], int)
    estimate = result["estimate"]
    assert estimate["input_tokens"] > 0 and estimate["output_tokens"] > 0
    assert estimate["model"] is None and estimate["cost_usd"] is None  # no model configured


# ---------------------------------------------------------------- a local checkout


def test_repo_dir_picks_files_from_the_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    without = plan_json(capsys, "--issue-file", str(issue))
    assert without["tasks"][0]["files"] == []

    repo = make_repo(tmp_path)
    result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    files = result["tasks"][0]["files"]
    assert "calc/ops.py" in files
    assert all((repo / f).is_file() for f in files)
    assert result["tasks"][0]["key"].startswith("calc#1/")


def test_repo_config_sets_the_model_and_its_problems_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = "llm_provider: openai\nllm_model: gpt-4o-mini\ncolour: blue\n"
    repo = make_repo(tmp_path, {".github/issuewright.yml": config})
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    monkeypatch.setenv("LLM_PRICING", "gpt-4o-mini:100:400")  # the operator's price wins
    # The repository picks among what the operator offers, as in the app.
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "gpt-4o")
    monkeypatch.setenv("LLM_MODELS", "gpt-4o-mini")
    result = plan_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    estimate = result["estimate"]
    expected = (estimate["input_tokens"] * 100 + estimate["output_tokens"] * 400) / 1e6
    assert estimate["model"] == "gpt-4o-mini"
    assert estimate["cost_usd"] == pytest.approx(expected, rel=1e-4)
    [problem] = result["problems"]
    assert ".github/issuewright.yml" in problem and "colour" in problem


def test_text_output_lists_tasks_templates_and_estimates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "gpt-4o-mini")
    issue = write(tmp_path, "tasks.md", TASK_LIST)
    assert main(["plan", "--issue-file", str(issue), "--repo", str(make_repo(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 task(s) · model gpt-4o-mini")
    # Not a terminal: a header line, then one row per task, columns two spaces apart.
    lines = out.splitlines()
    header, *rows = (re.split(r"\s{2,}", line.strip()) for line in lines[1:5])
    assert lines[5] == f"files: {tmp_path / 'calc'} as on disk (not a git checkout)"
    assert lines[6].startswith("why: 3 tasks: ")
    assert header == [
        "#",
        "type",
        "title",
        "depends on",
        "template",
        "tokens in",
        "tokens out",
        "cost",
        "files",
    ]
    assert [row[:3] for row in rows] == [
        ["1", "feature", "Add `mul(a, b)` to `calc/ops.py`"],
        ["3", "feature", "Add `div(a, b)` that raises `ZeroDivisionError` on zero"],
        ["4", "documentation", "Document `mul` and `div` in the README"],
    ]
    assert rows[0][4] == "feature v1" and rows[0][7].startswith("$0.")
    assert "calc/ops.py" in rows[0][8]


# ---------------------------------------------------------------- errors


def test_missing_issue_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--issue-file", str(tmp_path / "nope.md")]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.splitlines()
    assert line.startswith("issuewright: ") and "nope.md" in line and "does not exist" in line


def test_missing_repo_dir_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    assert main(["plan", "--issue-file", str(issue), "--repo", str(tmp_path / "gone")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "gone" in line and "not a directory" in line


def test_real_process_plans_and_fails_cleanly(tmp_path: Path) -> None:
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    ok = subprocess.run(
        [str(EXE), "plan", "--issue-file", str(issue), "--title", "calc.add is wrong", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env_for_subprocess(),
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    [task] = json.loads(ok.stdout)["tasks"]
    assert task["type"] == "bug_fix"

    missing = subprocess.run(
        [str(EXE), "plan", "--issue-file", "missing.md"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env_for_subprocess(),
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    assert "missing.md" in missing.stderr


# ---------------------------------------------------------------- prompts and context


def test_prompts_check_prints_one_ok_line_per_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prompts", "check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["ok", tid] for tid in TEMPLATE_IDS]
    assert all(line.split()[2].startswith("v") for line in lines)


def test_context_rank_json_ranks_best_first_and_shows_what_is_packed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    query = write(
        tmp_path,
        "query.md",
        "add() returns the difference\n\nTraceback (most recent call last):\n"
        '  File "calc/ops.py", line 2, in add\nAssertionError: -1 != 5\n',
    )
    argv = ["context", "rank", "--repo", str(repo), "--query-file", str(query), "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    ranked = result["ranked"]
    assert ranked[0]["path"] == "calc/ops.py"
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(set(r) == {"path", "score"} for r in ranked)
    packed = result["packed"]
    assert "calc/ops.py" in {p["path"] for p in packed}
    assert all(p["start"] <= p["end"] for p in packed)


def test_cli_module_runs_as_python_dash_m(tmp_path: Path) -> None:
    """`python -m bot` is the same CLI (Docker images call it that way)."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "prompts", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for_subprocess(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(TEMPLATE_IDS)


def test_prompts_check_of_a_missing_overrides_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prompts", "check", "--overrides", str(tmp_path / "nope")]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.splitlines()
    assert line.startswith("issuewright: error: --overrides ") and "not a directory" in line
