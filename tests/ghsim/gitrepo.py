"""Real bare git repositories: the remotes the bot clones from and pushes to.

Commits are made with plumbing commands and a throwaway index, so a bare repository never
needs a work tree; merges use `git merge-tree --write-tree` (git ≥ 2.38).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SIM_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}


ZERO_SHA = "0" * 40  # update-ref: the ref must not exist yet


class GitError(RuntimeError):
    pass


@dataclass(frozen=True)
class Author:
    name: str
    email: str


class BareRepo:
    def __init__(self, path: Path) -> None:
        self.path = path

    # ---------------------------------------------------------------- plumbing
    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        result = self._run(*args, input=input, env=env)
        if result.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace')}")
        return result.stdout.decode().strip()

    def _run(
        self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        full_env = {**os.environ, **SIM_ENV, **(env or {})}
        return subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            input=input,
            capture_output=True,
            env=full_env,
            check=False,
        )

    @classmethod
    def init(cls, path: Path, default_branch: str) -> BareRepo:
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "init", "--bare", "--quiet", f"--initial-branch={default_branch}", str(path)],
            check=True,
            env={**os.environ, **SIM_ENV},
        )
        return cls(path)

    # ---------------------------------------------------------------- reads
    def rev_parse(self, ref: str) -> str | None:
        result = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def branch_sha(self, branch: str) -> str | None:
        return self.rev_parse(f"refs/heads/{branch}")

    def ref_exists(self, ref: str) -> bool:
        return self._run("rev-parse", "--verify", "--quiet", f"refs/{ref}").returncode == 0

    def branches(self) -> list[str]:
        out = self.git("for-each-ref", "--format=%(refname:short)", "refs/heads")
        return out.splitlines()

    def read_file(self, ref: str, path: str) -> tuple[bytes, str] | None:
        """(content, blob sha) of a file at a ref, or None when it is not a file there."""
        spec = f"{ref}:{path}"
        kind = self._run("cat-file", "-t", spec)
        if kind.returncode != 0 or kind.stdout.decode().strip() != "blob":
            return None
        blob = self.git("rev-parse", spec)
        return self._run("cat-file", "blob", blob).stdout, blob

    def count_commits(self, base: str, head: str) -> int:
        return int(self.git("rev-list", "--count", f"{base}..{head}") or 0)

    def diff_stats(self, base: str, head: str) -> tuple[int, int, int]:
        """(additions, deletions, changed files) of head against the merge base."""
        out = self.git("diff", "--numstat", f"{base}...{head}")
        adds = dels = files = 0
        for line in out.splitlines():
            a, d, _ = line.split("\t", 2)
            adds += int(a) if a.isdigit() else 0
            dels += int(d) if d.isdigit() else 0
            files += 1
        return adds, dels, files

    # ---------------------------------------------------------------- writes
    def commit_files(
        self,
        branch: str,
        files: dict[str, str | bytes | None],
        message: str,
        author: Author,
        *,
        start_point: str | None = None,
    ) -> str:
        """Commit `files` (None deletes a path) on top of `branch` (created from
        `start_point` when missing). Returns the new commit's sha."""
        current = self.branch_sha(branch)
        parent = current or (self.rev_parse(start_point) if start_point else None)
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **_identity(author)}
            if parent:
                self.git("read-tree", parent, env=env)
            for path, content in files.items():
                if content is None:
                    self.git("update-index", "--force-remove", "--", path, env=env)
                    continue
                data = content.encode() if isinstance(content, str) else content
                blob = self.git("hash-object", "-w", "--stdin", input=data)
                self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self.git("write-tree", env=env)
        parents = ["-p", parent] if parent else []
        sha = self.git("commit-tree", tree, *parents, "-m", message, env=_identity(author))
        self.git("update-ref", f"refs/heads/{branch}", sha, current or ZERO_SHA)
        return sha

    def merge(self, base: str, head: str, message: str, author: Author) -> str:
        """Merge branch `head` into branch `base` with a merge commit; returns its sha."""
        base_sha, head_sha = self.branch_sha(base), self.branch_sha(head)
        if not base_sha or not head_sha:
            raise GitError(f"cannot merge {head} into {base}: branch missing")
        result = self._run("merge-tree", "--write-tree", base_sha, head_sha)
        if result.returncode != 0:
            raise GitError(f"merge conflict merging {head} into {base}")
        tree = result.stdout.decode().split()[0]
        sha = self.git(
            "commit-tree",
            tree,
            "-p",
            base_sha,
            "-p",
            head_sha,
            "-m",
            message,
            env=_identity(author),
        )
        self.git("update-ref", f"refs/heads/{base}", sha, base_sha)
        return sha

    def delete_ref(self, ref: str) -> None:
        self.git("update-ref", "-d", f"refs/{ref}")


def _identity(author: Author) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
