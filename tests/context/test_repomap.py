"""Repository map: outlines, git reading at a commit, the per-commit cache, the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.cli.context_rank import cli_context_rank
from bot.context import RepoMap, build_repo_map
from bot.context import repomap as repomap_module
from bot.context.map_cache import cached_map
from bot.context.repomap import cache_file

PY = (
    "import os\nfrom .base import Base\n\n"
    "class Store(Base):\n"
    '    """Keeps things."""\n\n'
    "    def put(self, key):\n        return key\n\n"
    "def helper():\n    return 1\n"
)
JS = "function renderPage(a) {\n  return a;\n}\nclass Widget {\n  draw() { return 1; }\n}\n"


def test_python_and_javascript_outlines() -> None:
    repo_map = build_repo_map({"lib/store.py": PY, "lib/base.py": "class Base: ...\n", "ui.js": JS})
    store = repo_map.entries[repo_map.index_of["lib/store.py"]]
    quals = {(s.qualname, s.kind, s.start, s.end) for s in store.outline.symbols}
    assert ("Store", "class", 4, 8) in quals
    assert ("Store.put", "method", 7, 8) in quals
    assert ("helper", "function", 10, 11) in quals
    assert store.outline.docstring == ""
    assert repo_map.imports[repo_map.index_of["lib/store.py"]] == [repo_map.index_of["lib/base.py"]]
    js = repo_map.entries[repo_map.index_of["ui.js"]].outline.symbols
    assert {"renderPage", "Widget"} <= {s.name for s in js}


def test_binary_and_data_files_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    assert RepoMap.from_dir(tmp_path).paths == ["a.py"]


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def test_from_git_reads_the_commit_and_caches_it(tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "mod.py").write_text("def first():\n    return 1\n")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "one")
    first = _git(work, "rev-parse", "HEAD")
    (work / "mod.py").write_text("def second():\n    return 2\n")
    _git(work, "commit", "-qam", "two")

    cache = tmp_path / "cache"
    old = RepoMap.from_git(work / ".git", first, cache)
    assert "def first" in old.entries[0].text
    assert list(cache.iterdir())

    def no_git(*_a: object) -> None:
        raise AssertionError("a warm map must not read git")

    monkeypatch.setattr(repomap_module, "read_git_tree", no_git)
    warm = RepoMap.from_git(work / ".git", first, cache)
    assert warm.paths == ["mod.py"] and "def first" in warm.entries[0].text
    monkeypatch.undo()
    with pytest.raises(LookupError):
        RepoMap.from_git(work / ".git", "0" * 40, None)


def test_cli_prints_json_and_refuses_bad_arguments(tmp_path: Path, capsys) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "store.py").write_text(PY)
    (repo / "pkg" / "other.py").write_text("def unrelated():\n    return 0\n")
    query = tmp_path / "issue.md"
    query.write_text("Store.put loses the key\n\nCalling `Store.put` returns None.")

    assert cli_context_rank(repo, str(query), 4000, True) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ranked"][0]["path"] == "pkg/store.py"
    assert {"path", "start", "end"} == set(doc["packed"][0])

    assert cli_context_rank(tmp_path / "nope", str(query), 4000, True) == 2
    assert cli_context_rank(repo, str(tmp_path / "missing.md"), 4000, True) == 2
    assert cli_context_rank(repo, str(query), 0, True) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("issuewright: error: ") for line in err)


def test_the_map_cache_keeps_only_the_most_recently_used_commits(tmp_path: Path) -> None:
    # The app's DATA_DIR/repomaps gained a map (tens of MB on a large repository) for every
    # base and every CI fix's head, for good.
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    commits = []
    for n in range(4):
        (work / "mod.py").write_text(f"def f{n}():\n    return {n}\n")
        _git(work, "add", ".")
        _git(work, "commit", "-qm", f"c{n}")
        commits.append(_git(work, "rev-parse", "HEAD"))
    cache = tmp_path / "cache"
    for sha in commits[:3]:
        cached_map(work / ".git", sha, cache, keep=2)
    cached_map(work / ".git", commits[0], cache, keep=2)  # used again: now the most recent
    cached_map(work / ".git", commits[3], cache, keep=2)
    kept = {p.name for p in cache.glob("repomap-*.pkl")}
    assert kept == {cache_file(cache, commits[0]).name, cache_file(cache, commits[3]).name}
