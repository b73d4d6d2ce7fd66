"""The repository map of a checkout is kept on disk per commit for the command line, as the
app keeps its own: a second `plan` or `context rank` on the same commit does not build it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.context import map_cache, repomap
from tests.cli.test_checkout import QUERY, git
from tests.cli.test_plan_cli import CALC, write


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LLM_PROVIDER", "LLM_MODEL", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "calc"
    for name, text in CALC.items():
        write(root, name, text)
    git(tmp_path, "init", "-q", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "calc")
    return root


def plan(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> dict[str, Any]:
    issue = str(write(repo.parent, "issue.md", QUERY))
    assert main(["plan", "--issue-file", issue, "--repo", str(repo), "--json", *extra]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return json.loads(out.out)


def maps(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "repomaps").glob("*.pkl"))


def test_the_second_run_on_a_commit_reads_the_map_from_the_cache(
    repo: Path,
    own_cache: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = plan(capsys, repo)
    head = git(repo, "rev-parse", "HEAD")
    assert maps(own_cache) == [f"repomap-v{repomap.MAP_VERSION}-{head}.pkl"]
    assert (own_cache / "repomaps").stat().st_mode & 0o777 == 0o700

    def no_building(files: Any) -> Any:
        raise AssertionError("the map was built again")

    monkeypatch.setattr(repomap, "build_repo_map", no_building)
    assert plan(capsys, repo) == first
    query = str(write(repo.parent, "q.md", QUERY))
    assert main(["context", "rank", "--repo", str(repo), "--query-file", query]) == 0
    assert "calc/ops.py" in capsys.readouterr().out

    # A new commit is a new map; the work tree (no commit to name it by) is never cached.
    monkeypatch.undo()
    monkeypatch.setenv("ISSUEWRIGHT_CACHE_DIR", str(own_cache))
    write(repo, "calc/more.py", "def more():\n    return 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "more")
    plan(capsys, repo, "--worktree")
    assert len(maps(own_cache)) == 1
    plan(capsys, repo)
    assert len(maps(own_cache)) == 2


def test_only_the_most_recently_used_maps_are_kept(
    repo: Path, own_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = own_cache / "repomaps"
    folder.mkdir(parents=True)
    for i in range(map_cache.CLI_MAPS_KEPT + 5):
        old = folder / f"repomap-v{repomap.MAP_VERSION}-{i:040x}.pkl"
        old.write_bytes(b"")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    plan(capsys, repo)
    kept = maps(own_cache)
    assert len(kept) == map_cache.CLI_MAPS_KEPT
    assert f"repomap-v{repomap.MAP_VERSION}-{git(repo, 'rev-parse', 'HEAD')}.pkl" in kept
    assert f"repomap-v{repomap.MAP_VERSION}-{0:040x}.pkl" not in kept  # the oldest went


def test_an_unusable_cache_folder_is_a_warning_not_a_failure(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv("ISSUEWRIGHT_CACHE_DIR", str(not_a_folder))
    issue = str(write(repo.parent, "issue.md", QUERY))
    assert main(["plan", "--issue-file", issue, "--repo", str(repo), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["tasks"]
    [line] = out.err.splitlines()
    assert line.startswith("issuewright: warning: cannot use the cache folder ")
    assert "ISSUEWRIGHT_CACHE_DIR" in line
