"""Context that honours the issue: the files it names go in first, the app's own files
never, and nothing twice. Built on a real git repository read at a commit, as jobs read it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bot.context import RepoMap, build_repo_map, pack_context, rank_files
from bot.context.named import named_files, task_named_files
from bot.plan.planner import IssueText, make_plan
from bot.settings import RepoConfig

HEADER = re.compile(r"^### (\S+) lines (\d+)-(\d+)$", re.M)

# Source files that talk about routes and JSON output a lot: the ranking puts them first.
DECOYS = {
    f"src/flask/{name}.py": "".join(
        f"def {name}_routes_json_{i}(routes, output):\n"
        f'    """Print the routes as JSON output, sorted by rule and endpoint."""\n'
        f"    return json_output(routes, sort=rule, endpoint=endpoint)\n\n\n"
        for i in range(12)
    )
    for name in [f"mod{i}" for i in range(16)]
}
TEST_CLI = (
    "import json\n\nimport pytest\n\nfrom flask.cli import FlaskGroup\n\n\n"
    + "".join(
        f"def test_loading_{i}(runner):\n"
        f"    result = runner.invoke(FlaskGroup(), ['shell'])\n"
        f"    assert result.exit_code == {i % 2}\n\n\n"
        for i in range(150)
    )
    + "class TestRoutes:\n"
    "    def test_simple(self, invoke):\n"
    "        result = invoke(['routes'])\n"
    "        assert 'Endpoint' in result.output\n"
)
DOCS_CLI = "Command Line Interface\n======================\n\n" + "".join(
    f"Section {i}\n----------\n\nThe ``flask shell`` command opens shell number {i}.\n\n"
    for i in range(120)
)
CHANGES = "Version 3.2.0\n-------------\n\nUnreleased\n\n-   Drop Python 3.8.\n\n" + "".join(
    f"Version 2.{i}.0\n-------------\n\n-   Fix the shell in release {i}.\n\n" for i in range(300)
)
REPO = {
    "README.md": "# Flask\n\nA lightweight web framework.\n",
    "src/flask/__init__.py": "from .app import Flask as Flask\n",
    "src/flask/app.py": "class Flask:\n    def run(self):\n        return 'running'\n",
    "src/flask/cli.py": (
        "class FlaskGroup:\n    pass\n\n\ndef routes_command(sort):\n    return sorted(sort)\n"
    ),
    "src/flask/json/__init__.py": "def dumps(obj):\n    return str(obj)\n",
    "tests/test_cli.py": TEST_CLI,
    "docs/cli.rst": DOCS_CLI,
    "CHANGES.rst": CHANGES,
    ".github/issuewright.yml": "instructions: Print routes as json output; routes json routes.\n",
    ".github/issuewright/prompts/feature.md.j2": "---\nid: feature\n---\nroutes json output\n",
    **DECOYS,
}
FEATURE_TITLE = "Add a JSON output option to `flask routes`"
FEATURE_BODY = """`flask routes` prints a table that is hard to read from scripts: routes as JSON
output would help, sorted by rule and endpoint.

- Add `flask routes --json` that prints the routes as JSON output
- Add tests in `tests/test_cli.py`
- Document it in `docs/cli.rst` and `CHANGES.rst`
- Read `.github/issuewright.yml` for the project's conventions
"""


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


@pytest.fixture(scope="module")
def repo_map(tmp_path_factory: pytest.TempPathFactory) -> RepoMap:
    work = tmp_path_factory.mktemp("flask")
    for path, text in REPO.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    _git(work, "init", "-q")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "flask")
    return RepoMap.from_git(work / ".git", _git(work, "rev-parse", "HEAD"))


def _slices_of(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(1), int(m.group(2)), int(m.group(3))) for m in HEADER.finditer(text)]


def _overlaps(slices: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    seen: dict[str, list[tuple[int, int]]] = {}
    bad = []
    for path, s, e in slices:
        if any(s <= pe and ps <= e for ps, pe in seen.get(path, [])):
            bad.append((path, s, e))
        seen.setdefault(path, []).append((s, e))
    return bad


def test_the_app_files_are_never_ranked_named_or_packed(repo_map: RepoMap) -> None:
    # They are in the map (the command line reads the configuration from it), not in context.
    assert ".github/issuewright.yml" in repo_map.paths
    query = "routes json output: see .github/issuewright.yml and feature.md.j2"
    ranked = rank_files(repo_map, query)
    assert not [p for p, _ in ranked if p.startswith(".github/issuewright")]
    forced = [(".github/issuewright.yml", 99.0), *ranked]  # e.g. an LLM pick
    named = [".github/issuewright/prompts/feature.md.j2", "CHANGES.rst"]
    packed = pack_context(repo_map, forced, query, 16000, named=named)
    assert not [p for p in packed.files if p.startswith(".github/issuewright")]
    assert ".github/issuewright" not in packed.text and "CHANGES.rst" in packed.files


def test_paths_modules_and_symbols_resolve_to_the_files_that_hold_them(repo_map: RepoMap) -> None:
    def named(text: str) -> list[str]:
        return named_files(repo_map, [text])

    assert named("Edit test_cli.py and CHANGES.rst") == ["tests/test_cli.py", "CHANGES.rst"]
    assert named("In flask.cli, `FlaskGroup`") == ["src/flask/cli.py"]
    assert named("`flask.Flask` and `Flask.run`") == ["src/flask/app.py"]  # re-export followed
    assert named("`routes_command(app)`") == ["src/flask/cli.py"]
    assert named("`dumps`") == ["src/flask/json/__init__.py"]
    # Not names of this repository's files: a standard library call (`json` is only the tail
    # of `flask.json`), a path that is not there, the app's configuration.
    assert named("json.dumps, src/nope.py, .github/issuewright.yml") == []


def test_a_name_many_files_define_names_none_of_them() -> None:
    crowded = build_repo_map({f"pkg/m{i}.py": "def helper():\n    return 1\n" for i in range(3)})
    assert named_files(crowded, ["`helper`"]) == []
    assert named_files(crowded, ["`helper` in pkg/m1.py"]) == ["pkg/m1.py"]
    two = build_repo_map({"a/util.py": "x = 1\n", "b/util.py": "y = 2\n", "util.py": "z = 3\n"})
    assert named_files(two, ["util.py"]) == ["util.py"]  # the path itself
    assert named_files(two, ["see lib/util.py"]) == []  # no such file, and two end alike


def test_names_that_usually_mean_the_reporters_own_files_or_usage_name_nothing() -> None:
    repo = build_repo_map(
        {
            "examples/pyproject.toml": "[tool.lint]\n",
            "tests/roots/a/conf.py": "imported_members = True\n",
            "tests/roots/b/conf.py": "imported_members = False\n",
            "tests/test_ext.py": "def test_imported_members():\n    assert True\n",
            "astro/io/__init__.py": "",
            "astro/io/ascii/__init__.py": "",
            "astro/io/ascii/qdp.py": "def read_qdp(path):\n    return path\n",
        }
    )
    # A configuration file or a conf.py in an issue is the reporter's; a value a fixture
    # assigns is a setting, not code; yet a test's own name names its file.
    issue = "My `pyproject.toml` and conf.py set `imported_members`; `test_imported_members`"
    assert named_files(repo, [issue]) == ["tests/test_ext.py"]
    # Two parts of a module name are specific enough below a package root.
    assert named_files(repo, ["format='ascii.qdp' fails"]) == ["astro/io/ascii/qdp.py"]


def test_the_files_the_issue_names_are_packed_first_though_they_rank_low(
    repo_map: RepoMap,
) -> None:
    query = f"{FEATURE_TITLE}\n{FEATURE_BODY}"
    ranked = [p for p, _ in rank_files(repo_map, query, title=FEATURE_TITLE)]
    wanted = ["tests/test_cli.py", "docs/cli.rst", "CHANGES.rst"]
    assert all(ranked.index(p) >= 15 for p in wanted)  # the ranking alone leaves them out
    without = pack_context(repo_map, rank_files(repo_map, query), query, 8000, named=[])
    assert not set(wanted) & set(without.files)

    issue = IssueText("pallets/flask", 1, FEATURE_TITLE, FEATURE_BODY, ["enhancement"])
    config = RepoConfig(context_budget_tokens=8000, instructions="Keep the CLI stable.")
    plan = make_plan(issue, repo_map, config)
    [task] = plan.tasks  # the tests and docs join their change
    code = [p for p in task.files if p != "README.md"]
    assert code[:3] == wanted
    assert "src/flask/mod0.py" in task.files  # ranked files follow in what is left
    assert task.prompt.text.count("Keep the CLI stable.") == 1  # instructions shown once
    assert ".github/issuewright" not in task.context


def test_a_named_file_too_big_for_its_share_gives_its_head_and_relevant_part(
    repo_map: RepoMap,
) -> None:
    query = "Add tests for `flask routes` to the TestRoutes class in tests/test_cli.py"
    packed = pack_context(repo_map, [], query, 4000)  # nothing ranked: the named share alone
    assert packed.tokens <= 4000 * 0.5 + 100  # its share of the budget, and the README's
    spans = [(s, e) for p, s, e in packed.slices if p == "tests/test_cli.py"]
    lines = TEST_CLI.splitlines()
    routes = lines.index("class TestRoutes:") + 1
    assert spans[0][0] == 1  # the imports
    assert any(s <= routes <= e for s, e in spans)
    assert sum(e - s + 1 for s, e in spans) < len(lines) // 2
    assert next(p for p in packed.files if p != "README.md") == "tests/test_cli.py"


def test_nothing_is_packed_twice_when_the_readme_is_also_ranked_or_named(
    repo_map: RepoMap,
) -> None:
    for query in ("The README.md says lightweight web framework", "lightweight web framework"):
        packed = pack_context(repo_map, rank_files(repo_map, query), query, 16000)
        shown = _slices_of(packed.text)
        assert ("README.md", 1, 3) in shown
        assert not _overlaps(shown), shown
        assert shown == packed.slices


def test_a_task_packs_its_own_files_and_not_those_another_task_names(
    repo_map: RepoMap,
) -> None:
    issue = "Two things:\n- Fix `routes_command`\n- Update docs/cli.rst\n\nSee CHANGES.rst."
    mine = task_named_files(
        repo_map, "Fix `routes_command`", issue, other_tasks=["Update docs/cli.rst"]
    )
    assert mine == ["src/flask/cli.py", "CHANGES.rst"]  # shared mentions stay
