"""Mirror cache, worktrees, commit, push and branch clean-up against local bare "remotes"."""

from __future__ import annotations

import base64
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from bot.attempt.apply_answer import apply_answer
from bot.git import cmd as git_cmd
from bot.git.cmd import GitError, RepoRef
from bot.git.remote import (
    ForeignCommitsError,
    delete_remote_branch,
    push_branch,
    remote_branch_sha,
)
from bot.git.worktrees import (
    GitIdentity,
    add_worktree,
    branch_name,
    commit_all,
    ensure_mirror,
    remove_worktree,
)
from tests.git.conftest import make_repo, run_git, write_files

BOT = GitIdentity("issuewright[bot]", "123+issuewright[bot]@users.noreply.github.com")
ADA = GitIdentity("Ada Lovelace", "ada@example.com")
TOKEN = "ghs_TESTtoken0123456789abcdefSECRET"
BRANCH = branch_name(6, 2)
ANSWER = (
    "calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n"
    ">>>>>>> REPLACE\n```\n"
)


class Remote:
    """A bare repository standing in for GitHub, plus a checkout to push to it as a person."""

    def __init__(self, tmp_path: Path) -> None:
        self.bare = tmp_path / "remotes" / "acme" / "calc.git"
        self.bare.parent.mkdir(parents=True)
        run_git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        self.human = make_repo(
            tmp_path / "human", {"calc.py": "def add(a, b):\n    return a - b\n"}
        )
        run_git(self.human, "push", "--quiet", str(self.bare), "main")
        template = str(tmp_path / "remotes" / "{owner}" / "{repo}.git")
        self.repo = RepoRef("acme", "calc", template, tmp_path / "data")

    def commit(self, files: dict[str, str], message: str, branch: str = "main") -> str:
        run_git(self.human, "checkout", "--quiet", "-B", branch)
        write_files(self.human, files)
        run_git(self.human, "add", "--all")
        run_git(self.human, "commit", "--quiet", "-m", message)
        run_git(self.human, "push", "--quiet", "--force", str(self.bare), branch)
        return run_git(self.human, "rev-parse", "HEAD")

    def sha(self, ref: str) -> str:
        return run_git(self.bare, "rev-parse", ref)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


def attempt(remote: Remote, token: str | None = TOKEN) -> tuple[Path, str]:
    """One bot attempt: fetch, worktree, apply, commit, push."""
    ensure_mirror(remote.repo, token=token)
    tree = add_worktree(remote.repo, branch=BRANCH, base="main")
    plan = apply_answer(tree, ANSWER)
    assert plan.ok, plan.problems
    sha = commit_all(tree, "Fix add() (#6)\n\nTask 2 of #6.", author=BOT, co_authors=[ADA])
    assert sha is not None
    push_branch(remote.repo, BRANCH, token=token, bot_email=BOT.email)
    return tree, sha


def test_mirror_is_cloned_then_fetched_incrementally(remote: Remote) -> None:
    mirror = ensure_mirror(remote.repo)
    assert mirror == remote.repo.data_dir / "mirrors" / "acme" / "calc.git"
    assert run_git(mirror, "rev-parse", "refs/remotes/origin/main") == remote.sha("main")
    first_objects = run_git(mirror, "count-objects", "-v")

    new = remote.commit({"extra.py": "X = 1\n"}, "more", branch="feature")
    remote.commit({"calc.py": "def add(a, b):\n    return a - b  # todo\n"}, "main moves")
    assert ensure_mirror(remote.repo) == mirror
    assert run_git(mirror, "rev-parse", "refs/remotes/origin/main") == remote.sha("main")
    assert run_git(mirror, "rev-parse", "refs/remotes/origin/feature") == new
    assert run_git(mirror, "count-objects", "-v") != first_objects  # only new objects came in

    run_git(remote.bare, "branch", "-D", "feature")
    ensure_mirror(remote.repo)
    assert "feature" not in run_git(mirror, "for-each-ref", "--format=%(refname)")
    # No remote is stored, so no URL (or token) lives in the mirror's config.
    assert "remote." not in run_git(mirror, "config", "--list", "--local")


def test_worktree_is_on_the_task_branch_from_base(remote: Remote) -> None:
    ensure_mirror(remote.repo)
    tree = add_worktree(remote.repo, branch=BRANCH, base="main")
    assert BRANCH == "issuewright/6-2"
    assert run_git(tree, "rev-parse", "--abbrev-ref", "HEAD") == BRANCH
    assert run_git(tree, "rev-parse", "HEAD") == remote.sha("main")
    assert (tree / "calc.py").read_text().startswith("def add")
    # A second attempt for the same task replaces the stale worktree and starts again from base.
    again = add_worktree(remote.repo, branch=BRANCH, base="main")
    assert again != tree and run_git(again, "rev-parse", "--abbrev-ref", "HEAD") == BRANCH
    remove_worktree(remote.repo, again)
    assert not again.exists()
    assert str(again) not in run_git(remote.repo.mirror, "worktree", "list")

    with pytest.raises(GitError, match="base branch 'develop' was not found"):
        add_worktree(remote.repo, branch=BRANCH, base="develop")


def test_commit_has_bot_author_and_co_author_trailer(remote: Remote) -> None:
    ensure_mirror(remote.repo)
    tree = add_worktree(remote.repo, branch=BRANCH, base="main")
    assert commit_all(tree, "nothing", author=BOT) is None  # no change, no commit
    apply_answer(tree, ANSWER)
    sha = commit_all(tree, "Fix add() (#6)", author=BOT, co_authors=[ADA])
    assert sha == run_git(tree, "rev-parse", "HEAD")
    assert (
        run_git(tree, "log", "-1", "--format=%an <%ae>|%cn")
        == f"{BOT.name} <{BOT.email}>|{BOT.name}"
    )
    message = run_git(tree, "log", "-1", "--format=%B")
    assert message == "Fix add() (#6)\n\nCo-authored-by: Ada Lovelace <ada@example.com>"
    trailers = run_git(tree, "log", "-1", "--format=%(trailers:key=Co-authored-by,valueonly)")
    assert trailers == "Ada Lovelace <ada@example.com>"


def test_trailer_cannot_be_broken_by_a_hostile_name() -> None:
    evil = GitIdentity("Eve\nSigned-off-by: Mallory <m@x>", "eve@example.com>\n")
    assert evil.trailer() == "Co-authored-by: Eve Signed-off-by: Mallory  m@x <eve@example.com>"


def test_push_to_the_remote_and_again_over_own_commits(remote: Remote) -> None:
    tree, sha = attempt(remote)
    assert remote.sha(f"refs/heads/{BRANCH}") == sha
    assert remote_branch_sha(remote.repo, BRANCH) == sha
    remove_worktree(remote.repo, tree)
    # A retry starts from base again; replacing the app's own earlier commit is allowed.
    remote.commit({"other.py": "Y = 2\n"}, "main moves on")
    _, second = attempt(remote)
    assert second != sha and remote.sha(f"refs/heads/{BRANCH}") == second
    # Pushing an unchanged branch is a no-op.
    assert push_branch(remote.repo, BRANCH, token=TOKEN, bot_email=BOT.email) == second


def test_refuses_to_push_over_a_commit_the_app_did_not_make(remote: Remote) -> None:
    tree, _ = attempt(remote)
    remove_worktree(remote.repo, tree)
    human = remote.commit({"calc.py": "def add(a, b):\n    return b + a\n"}, "human fix", BRANCH)
    with pytest.raises(ForeignCommitsError) as caught:
        attempt(remote)
    assert caught.value.commits == (human,)
    assert BRANCH in str(caught.value) and human[:12] in str(caught.value)
    assert remote.sha(f"refs/heads/{BRANCH}") == human  # untouched
    assert TOKEN not in str(caught.value)


def test_delete_remote_branch(remote: Remote) -> None:
    _, sha = attempt(remote)
    with pytest.raises(GitError):  # someone else's commit is there now: keep the branch
        delete_remote_branch(remote.repo, BRANCH, token=TOKEN, expected_sha="0" * 40)
    assert remote_branch_sha(remote.repo, BRANCH) == sha
    assert delete_remote_branch(remote.repo, BRANCH, token=TOKEN, expected_sha=sha) is True
    assert remote_branch_sha(remote.repo, BRANCH) is None
    assert delete_remote_branch(remote.repo, BRANCH, token=TOKEN) is False


def test_token_is_never_stored_or_passed_in_argv(
    remote: Remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv_seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        argv_seen.append(list(args))
        return real_run(args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(git_cmd.subprocess, "run", spy)
    tree, _ = attempt(remote)
    secrets = [TOKEN, base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()]
    assert argv_seen and not any(s in " ".join(a) for a in argv_seen for s in secrets)
    for where in (remote.repo.mirror, tree):
        config = run_git(where, "config", "--list", "--show-origin")
        assert not any(s in config for s in secrets)
    for path in remote.repo.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path


class _AuthRecorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def http_remote() -> Iterator[str]:
    """A loopback HTTP server that records the Authorization header and refuses everyone."""
    _AuthRecorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthRecorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{{owner}}/{{repo}}.git"
    server.shutdown()
    thread.join()


def test_token_goes_as_x_access_token_header_and_is_scrubbed_from_errors(
    http_remote: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "*")
    repo = RepoRef("acme", "calc", http_remote, tmp_path / "data")
    with pytest.raises(GitError) as caught:
        ensure_mirror(repo, token=TOKEN)
    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert _AuthRecorder.seen and _AuthRecorder.seen[0] == expected
    message = str(caught.value)
    assert "git fetch failed" in message
    assert TOKEN not in message and expected.split()[1] not in message
    assert not repo.mirror.exists()  # a failed first clone leaves nothing half-made


def test_scrub_removes_every_form_of_the_token() -> None:
    header = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    text = f"fatal: https://x-access-token:{TOKEN}@github.com Authorization: Basic {header}"
    assert TOKEN not in git_cmd.scrub(text, TOKEN)
    assert header not in git_cmd.scrub(text, TOKEN)


def test_refused_answer_leaves_the_worktree_unchanged(remote: Remote) -> None:
    ensure_mirror(remote.repo)
    tree = add_worktree(remote.repo, branch=BRANCH, base="main")
    hostile = (
        ANSWER + ".git/hooks/post-checkout\n```\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n```\n"
    )
    plan = apply_answer(tree, hostile)
    assert not plan.ok and plan.problems[0].path == ".git/hooks/post-checkout"
    assert run_git(tree, "status", "--porcelain") == ""
