"""Git for one task attempt: a cached bare mirror per repository, a worktree per attempt,
and commit. Uses the `git` binary. Writing an answer is bot/attempt/safe_write.py; pushing and
deleting remote branches is bot/git/remote.py.

The installation token reaches git only through the environment of the one git process
that needs it (GIT_CONFIG_COUNT/KEY/VALUE setting `http.extraHeader`), never through argv
(visible in `ps`), a remote URL, or a config file; any git output is scrubbed of it before
it is raised or logged. No configuration of the host reaches git (bot/git/env.py): only
its BASE_CONFIG and the repository's own files.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.git import sparse as sparse_checkout
from bot.git.cmd import REMOTE_REFS, GitError, RepoRef, git, locked

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GitIdentity:
    name: str
    email: str

    def trailer(self) -> str:
        # Names and emails come from GitHub users: keep them on one line and in their slots.
        name = re.sub(r"[\r\n<>]", " ", self.name).strip()
        email = re.sub(r"[\s<>]", "", self.email)
        return f"Co-authored-by: {name} <{email}>"


def branch_name(issue: int, task: int | str) -> str:
    return f"issuewright/{issue}-{task}"


def ensure_mirror(repo: RepoRef, *, token: str | None = None) -> Path:
    """Create the bare mirror if missing, else fetch what is new; return its path.

    Remote branches land in refs/remotes/origin/* (not refs/heads/*) so a fetch never
    touches the branches checked out in attempt worktrees. No remote is configured: the
    URL is passed on each fetch, so nothing about the remote is stored on disk.
    """
    mirror = repo.mirror
    with locked(mirror):
        if not (mirror / "HEAD").exists():
            # Build beside and rename, so a crash never leaves a half-made mirror in place.
            staging = mirror.with_name(f"{mirror.name}.tmp-{uuid.uuid4().hex[:8]}")
            try:
                git("init", "--bare", "--quiet", str(staging))
                _fetch(staging, repo, token)
                staging.rename(mirror)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        else:
            _fetch(mirror, repo, token)
    return mirror


def _fetch(mirror: Path, repo: RepoRef, token: str | None) -> None:
    spec = f"+refs/heads/*:{REMOTE_REFS}/*"
    git("fetch", "--quiet", "--prune", "--no-tags", repo.url, spec, cwd=mirror, token=token)


def add_worktree(repo: RepoRef, *, branch: str, base: str, sparse: bool = False) -> Path:
    """A fresh worktree on `branch`, reset to the fetched `base`, for one attempt. With
    `sparse`, no file is checked out until `apply_answer` needs it (see bot/git/sparse.py)."""
    mirror = repo.mirror
    start = f"{REMOTE_REFS}/{base}"
    dest = repo.data_dir / "worktrees" / repo.owner / repo.name
    dest = dest / f"{branch.replace('/', '-')}-{uuid.uuid4().hex[:8]}"
    if not (mirror / "HEAD").exists():
        raise GitError(f"no mirror of {repo.owner}/{repo.name} yet; call ensure_mirror first")
    with locked(mirror):
        if git("rev-parse", "--verify", "--quiet", start, cwd=mirror, check=False).returncode:
            raise GitError(f"base branch {base!r} was not found on the remote")
        git("worktree", "prune", cwd=mirror)
        for stale in _worktrees_on(mirror, branch):  # left by a crashed earlier attempt
            git("worktree", "remove", "--force", str(stale), cwd=mirror, check=False)
        dest.parent.mkdir(parents=True, exist_ok=True)
        lazy = ("--no-checkout",) if sparse else ()
        git(
            "worktree",
            "add",
            "--quiet",
            *lazy,
            "--no-track",
            "-B",
            branch,
            str(dest),
            start,
            cwd=mirror,
        )
    if sparse:
        sparse_checkout.start(dest)
    return dest


def _worktrees_on(mirror: Path, branch: str) -> list[Path]:
    out = git("worktree", "list", "--porcelain", cwd=mirror).stdout
    found, current = [], None
    for line in out.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree ") :])
        elif line == f"branch refs/heads/{branch}" and current:
            found.append(current)
    return found


def remove_worktree(repo: RepoRef, worktree: Path) -> None:
    with locked(repo.mirror):
        git("worktree", "remove", "--force", str(worktree), cwd=repo.mirror, check=False)
        shutil.rmtree(worktree, ignore_errors=True)
        git("worktree", "prune", cwd=repo.mirror, check=False)


def commit_all(
    worktree: Path, message: str, *, author: GitIdentity, co_authors: Sequence[GitIdentity] = ()
) -> str | None:
    """Commit every change in the worktree as `author`; return the sha, or None if no change."""
    git("add", "--all", cwd=worktree)
    if git("diff", "--cached", "--quiet", cwd=worktree, check=False).returncode == 0:
        return None
    trailers = "\n".join(c.trailer() for c in co_authors)
    body = message.strip() + (f"\n\n{trailers}" if trailers else "") + "\n"
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
    git("commit", "--quiet", "--no-verify", "-F", "-", cwd=worktree, env=env, stdin=body)
    return git("rev-parse", "HEAD", cwd=worktree).stdout.strip()


def add_branch_worktree(checkout: Path, *, branch: str, start: str, dest: Path) -> Path:
    """A worktree of a local checkout on a new `branch` made from `start` (`issuewright run`:
    the user's own branch, index and files are never touched). Fails if `branch` exists."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    git("worktree", "add", "--quiet", "-b", branch, str(dest), start, cwd=checkout)
    return dest


def drop_worktree(checkout: Path, worktree: Path, *, delete_branch: str | None = None) -> None:
    """Remove a worktree of a local checkout (and the branch made for it, if it is to go)."""
    git("worktree", "remove", "--force", str(worktree), cwd=checkout, check=False)
    shutil.rmtree(worktree, ignore_errors=True)
    git("worktree", "prune", cwd=checkout, check=False)
    if delete_branch:
        git("branch", "-D", delete_branch, cwd=checkout, check=False)


def diff_of_head(worktree: Path) -> str:
    """The last commit's changes, as `git show` prints them (for a run's record)."""
    return git("show", "--format=", "--stat", "--patch", "HEAD", cwd=worktree).stdout


def merge_branch(worktree: Path, branch: str, *, author: GitIdentity) -> None:
    """Merge `branch` into the worktree's (a task that depends on several others)."""
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
    git("merge", "--quiet", "--no-edit", "--no-ff", branch, cwd=worktree, env=env)


def branch_exists(checkout: Path, branch: str) -> bool:
    ref = f"refs/heads/{branch}"
    return git("show-ref", "--verify", "--quiet", ref, cwd=checkout, check=False).returncode == 0
