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

from bot.git.cmd import git

NOTHING = "/.issuewright-sparse-nothing"  # a pattern that matches no file
_GLOB = re.compile(r"([\\*?\[\]!#])")


def _pattern(path: str) -> str:
    """An exact, anchored gitignore-style pattern for `path` (glob characters escaped)."""
    return "/" + _GLOB.sub(r"\\\1", path)


def start(worktree: Path) -> None:

    git("sparse-checkout", "set", "--no-cone", NOTHING, cwd=worktree)
    git("read-tree", "-mu", "HEAD", cwd=worktree)


def is_sparse(worktree: Path) -> bool:

    out = git("config", "--get", "core.sparseCheckout", cwd=worktree, check=False).stdout
    return out.strip() == "true"


def materialize(worktree: Path, paths: list[str]) -> None:
    """Check out `paths` and every parent of theirs that is not a directory in HEAD."""

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
