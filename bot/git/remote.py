"""Branches on the remote: read a branch's sha, push an attempt's branch without dropping
commits the app did not make, and delete a branch. Uses `bot.git.worktrees.git`, so the token is
handled (and scrubbed) the same way as for fetches.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.git.cmd import GitError, RepoRef, git


class ForeignCommitsError(GitError):
    """The remote branch holds commits the app did not make; it will not be overwritten."""

    def __init__(self, branch: str, commits: Sequence[str]) -> None:
        self.branch, self.commits = branch, tuple(commits)
        shown = ", ".join(c[:12] for c in commits[:5])
        super().__init__(
            f"branch {branch} on the remote has {len(commits)} commit(s) not made by the app "
            f"({shown}); refusing to overwrite them. Delete or rename the branch to retry."
        )


def remote_branch_sha(repo: RepoRef, branch: str, *, token: str | None = None) -> str | None:
    out = git("ls-remote", repo.url, f"refs/heads/{branch}", token=token).stdout.split()
    return out[0] if out else None


def push_branch(repo: RepoRef, branch: str, *, token: str | None, bot_email: str) -> str:
    """Push the local `branch` to the remote, replacing only commits the app made.

    Raises ForeignCommitsError if pushing would drop a commit authored by anyone but
    `bot_email`. The push is leased on the remote sha we checked, so a commit pushed by
    someone in between makes it fail instead of being overwritten.
    """
    mirror, ref = repo.mirror, f"refs/heads/{branch}"
    ours = git("rev-parse", "--verify", ref, cwd=mirror).stdout.strip()
    theirs = remote_branch_sha(repo, branch, token=token)
    if theirs == ours:
        return ours
    if theirs:
        check_ref = f"refs/issuewright-check/{branch}"
        spec = f"+{ref}:{check_ref}"
        git("fetch", "--quiet", "--no-tags", repo.url, spec, cwd=mirror, token=token)
        try:
            lost = git("log", "--format=%H %ae", theirs, "--not", ours, cwd=mirror).stdout
        finally:
            git("update-ref", "-d", check_ref, cwd=mirror, check=False)
        foreign = [
            sha for sha, _, email in (x.partition(" ") for x in lost.splitlines())
            if email.lower() != bot_email.lower()
        ]  # fmt: skip
        if foreign:
            raise ForeignCommitsError(branch, foreign)
    lease = f"--force-with-lease={ref}:{theirs or ''}"
    git("push", "--quiet", lease, repo.url, f"{ref}:{ref}", cwd=mirror, token=token)
    return ours


def delete_remote_branch(
    repo: RepoRef, branch: str, *, token: str | None, expected_sha: str | None = None
) -> bool:
    """Delete the remote branch; with `expected_sha`, only if it still points there.

    Returns False if the branch did not exist.
    """
    ref = f"refs/heads/{branch}"
    theirs = remote_branch_sha(repo, branch, token=token)
    if theirs is None:
        return False
    lease = f"--force-with-lease={ref}:{expected_sha or theirs}"
    git("push", "--quiet", lease, repo.url, f":{ref}", cwd=repo.mirror, token=token)
    return True
