"""Sparse worktrees: an attempt checks out only the files the model's answer touches.

A large repository's full checkout costs seconds per attempt while an answer touches a few
files. The worktree starts with an index of every file (so `git add --all` never mistakes
an absent file for a deletion) and no files on disk; before an answer is checked, the files
it names are checked out — and every parent path that is a file or symlink in the commit,
so the symlink rules in `bot.attempt.safe_write` still see what they must refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.attempt.safe_write import check_path
from bot.core.edit_apply import touched_paths
from bot.core.edits import parse_answer

NOTHING = "/.issuewright-sparse-nothing"  # a pattern that matches no file
_GLOB = re.compile(r"([\\*?\[\]!#])")


def _pattern(path: str) -> str:
    """An exact, anchored gitignore-style pattern for `path` (glob characters escaped)."""
    return "/" + _GLOB.sub(r"\\\1", path)


def start(worktree: Path) -> None:
    from bot.git.worktrees import git

    git("sparse-checkout", "set", "--no-cone", NOTHING, cwd=worktree)
    git("read-tree", "-mu", "HEAD", cwd=worktree)


def is_sparse(worktree: Path) -> bool:
    from bot.git.worktrees import git

    out = git("config", "--get", "core.sparseCheckout", cwd=worktree, check=False).stdout
    return out.strip() == "true"


def answer_paths(answer: str) -> list[str]:
    """Paths the answer names that could be written at all (hostile ones are left for the
    safety checks to refuse; there is nothing to check out for them)."""
    # The safety rules without any denied prefix: a path they refuse (NUL byte, too long,
    # traversal, .git/) is never handed to git, whose argv cannot even hold a NUL.
    return [p for p in touched_paths(parse_answer(answer).edits) if check_path(p, ()) is None]


def materialize(worktree: Path, paths: list[str]) -> None:
    """Check out `paths` and every parent of theirs that is not a directory in HEAD."""
    from bot.git.worktrees import git

    if not paths:
        return
    prefixes = sorted(
        {"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)}
    )
    patterns = {_pattern(p) for p in paths}
    if prefixes:
        listing = git("ls-tree", "-z", "HEAD", "--", *prefixes, cwd=worktree).stdout
        for record in filter(None, listing.split("\0")):
            meta, _, name = record.partition("\t")
            if meta.split()[1] != "tree":  # a file or symlink where a directory is expected
                patterns.add(_pattern(name))
    git("sparse-checkout", "add", *sorted(patterns), cwd=worktree)
