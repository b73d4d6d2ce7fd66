"""Running the `git` binary: one function every git call goes through (host configuration
ignored, token only in the environment, output scrubbed, a timeout), its error, where a
repository's remote and mirror are, and the lock around a mirror."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import logging
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.git.env import BASE_CONFIG, git_environment

log = logging.getLogger(__name__)

REMOTE_REFS = "refs/remotes/origin"

# The oldest git every command here works with: `sparse-checkout set --no-cone` (git/sparse.py)
# came with 2.35, after GIT_CONFIG_COUNT (2.31) and GIT_CONFIG_GLOBAL (2.32) that git/env.py
# keeps the host's configuration out with.
MIN_GIT_VERSION = (2, 35)


class GitError(RuntimeError):
    """A git command failed; the message is safe to show and store (no token)."""


@dataclass(frozen=True)
class RepoRef:
    """Where a repository's remote is and where its mirror is cached."""

    owner: str
    name: str
    url_template: str  # e.g. "https://github.com/{owner}/{repo}.git"; tests use file:// paths
    data_dir: Path

    def __post_init__(self) -> None:
        for part in (self.owner, self.name):
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", part) or part in (".", ".."):
                raise ValueError(f"invalid repository name part {part!r}")

    @property
    def url(self) -> str:
        return self.url_template.format(owner=self.owner, repo=self.name)

    @property
    def mirror(self) -> Path:
        return self.data_dir / "mirrors" / self.owner / f"{self.name}.git"


def _secrets(token: str | None) -> list[str]:
    if not token:
        return []
    return [token, _basic(token), f"x-access-token:{token}"]


def _basic(token: str) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode()


def scrub(text: str, token: str | None) -> str:
    for secret in sorted(_secrets(token), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def git(
    *args: str,
    cwd: Path | None = None,
    token: str | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    check: bool = True,
    timeout: float = 600.0,
) -> subprocess.CompletedProcess[str]:
    """Run git; with `token`, authenticate HTTPS as x-access-token via the environment."""
    config = list(BASE_CONFIG)
    if token:
        config.append(("http.extraHeader", f"Authorization: Basic {_basic(token)}"))
    full_env = git_environment(config, env)
    log.debug("git %s", " ".join(args))
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,  # a stalled fetch or push must not hold a worker forever
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish within {timeout:.0f} seconds") from None
    except OSError as exc:
        raise GitError(f"git {args[0]} could not run: {exc.strerror}") from None
    if check and proc.returncode != 0:
        detail = scrub((proc.stderr or proc.stdout).strip(), token)[-2000:]
        raise GitError(f"git {args[0]} failed (exit {proc.returncode}): {detail}")
    return proc


def git_version() -> tuple[int, ...]:
    """The version of the `git` the app runs, e.g. (2, 39, 5); GitError when it cannot run."""
    out = git("--version", timeout=30).stdout  # "git version 2.39.5" (or "2.39.5.windows.1")
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    if found is None:
        raise GitError(f"git --version said {out.strip()[:80]!r}, not a version")
    return tuple(int(part) for part in found.groups() if part is not None)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    # Workers share mirrors: serialize fetches and worktree changes per repository.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
