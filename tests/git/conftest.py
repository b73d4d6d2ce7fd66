"""Real git repositories in temporary folders, isolated from the user's git configuration."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

AUTHOR = ("Test Person", "person@example.com")


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Identity via env and no global/system config: tests never read or touch ~/.gitconfig.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for kind in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{kind}_NAME", AUTHOR[0])
        monkeypatch.setenv(f"GIT_{kind}_EMAIL", AUTHOR[1])


def run_git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return proc.stdout.strip()


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)


def make_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """A checkout on branch main with `files` committed."""
    root.mkdir(parents=True, exist_ok=True)
    run_git(root, "init", "--quiet", "--initial-branch=main")
    write_files(root, files)
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "-m", "initial")
    return root


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under root except .git/: file bytes and modes, link targets, dirs."""
    found: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_dir():
                found[key] = "dir"
            else:
                found[key] = (path.read_bytes(), path.stat().st_mode)
    return found
