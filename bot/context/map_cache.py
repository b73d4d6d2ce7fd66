"""The on-disk repository maps, bounded: each is tens of MB for a large repository and every
commit looked at (a base, each CI fix's head) would otherwise leave one for good. A map is
marked used when it is loaded; all but the `keep` most recently used are removed."""

from __future__ import annotations

import contextlib
from pathlib import Path

from .repomap import RepoMap, cache_file

APP_MAPS_KEPT = 32  # the app's DATA_DIR/repomaps: several repositories' bases and PR heads
CLI_MAPS_KEPT = 8  # the command line's cache folder: the checkouts one person looks at


def cached_map(git_dir: Path, commit: str, cache_dir: Path | None, *, keep: int) -> RepoMap:
    """`RepoMap.from_git` through the cache in `cache_dir`, keeping it to `keep` maps."""
    repo_map = RepoMap.from_git(git_dir, commit, cache_dir)
    if cache_dir is not None:
        keep_recent(cache_dir, cache_file(cache_dir, commit), keep)
    return repo_map


def keep_recent(cache: Path, used: Path, keep: int) -> None:
    with contextlib.suppress(OSError):
        used.touch(exist_ok=True)
    maps = sorted(cache.glob("repomap-*.pkl"), key=_mtime, reverse=True)
    for old in maps[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another run
        return 0.0
