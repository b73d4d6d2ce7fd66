"""Sparse attempt worktrees: only what the answer touches is on disk, and the commit is the
same as a full checkout would make (no file outside the answer lost or changed)."""

from __future__ import annotations

import os
from pathlib import Path

from bot.attempt.apply_answer import apply_answer
from bot.git.worktrees import add_worktree, commit_all, ensure_mirror
from tests.git.conftest import run_git
from tests.git.test_worktrees import BOT, Remote


def _files_on_disk(tree: Path) -> set[str]:
    return {
        str(p.relative_to(tree))
        for p in tree.rglob("*")
        if (p.is_file() or p.is_symlink()) and ".git" not in p.relative_to(tree).parts
    }


def _edit(path: str, search: str, replace: str) -> str:
    return f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def test_only_touched_files_are_checked_out_and_the_commit_is_complete(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    remote.commit(
        {f"pkg/mod{i}.py": f"X = {i}\n" for i in range(50)} | {"README.md": "hi\n"}, "many"
    )
    ensure_mirror(remote.repo)
    tree = add_worktree(remote.repo, branch="issuewright/1-1", base="main", sparse=True)
    assert _files_on_disk(tree) == set()
    answer = _edit("pkg/mod3.py", "X = 3\n", "X = 33\n") + _edit("new/dir/a.py", "", "A = 1\n")
    plan = apply_answer(tree, answer)
    assert plan.ok, plan.problems
    assert _files_on_disk(tree) == {"pkg/mod3.py", "new/dir/a.py"}
    sha = commit_all(tree, "Edit", author=BOT)
    assert sha is not None
    changed = run_git(tree, "diff", "--name-status", "HEAD~1", "HEAD").splitlines()
    assert sorted(changed) == ["A\tnew/dir/a.py", "M\tpkg/mod3.py"]
    listed = run_git(tree, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert len(listed) == 50 + 1 + 1 + 1  # calc.py, README.md and the new file kept


def test_a_symlinked_parent_is_checked_out_so_the_write_is_refused(tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, remote.human / "docs")
    remote.commit({}, "docs is a link")
    ensure_mirror(remote.repo)
    tree = add_worktree(remote.repo, branch="issuewright/1-1", base="main", sparse=True)
    plan = apply_answer(tree, _edit("docs/evil.py", "", "x = 1\n"))
    assert not plan.ok and any("symbolic link" in p.reason for p in plan.problems)
    assert list(outside.iterdir()) == []
