"""The operator's git configuration never reaches the app's git: a repository whose
`.gitattributes` names a filter driver the host defines (system, global, XDG or
GIT_CONFIG_* environment) does not make the app's fetch, checkout, apply, commit or push run
it. The workspace functions the pipeline uses are checked here; tests/e2e/test_git_isolation
checks the pipeline itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.attempt.apply_answer import apply_answer
from bot.git.env import BASE_CONFIG, git_environment
from bot.git.remote import push_branch
from bot.git.worktrees import add_worktree, commit_all, ensure_mirror
from tests.git import hostile_git
from tests.git.test_worktrees import ANSWER, BOT, BRANCH, TOKEN, Remote


@pytest.mark.parametrize("source", hostile_git.SOURCES)
@pytest.mark.parametrize("sparse", [False, True])
def test_host_filter_drivers_never_run_for_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, sparse: bool
) -> None:
    remote = Remote(tmp_path)
    remote.commit({".gitattributes": hostile_git.ATTRIBUTES, "notes.txt": "n\n"}, "attrs")
    hostile = hostile_git.install(tmp_path / "hostile", monkeypatch, source)
    hostile_git.plain_git_runs_it(hostile, tmp_path / "sanity", source)

    ensure_mirror(remote.repo, token=TOKEN)
    tree = add_worktree(remote.repo, branch=BRANCH, base="main", sparse=sparse)
    plan = apply_answer(tree, ANSWER)
    assert plan.ok, plan.problems
    sha = commit_all(tree, "Fix add()", author=BOT)
    assert sha is not None
    push_branch(remote.repo, BRANCH, token=TOKEN, bot_email=BOT.email)
    ensure_mirror(remote.repo, token=TOKEN)  # a second fetch into the existing mirror

    assert hostile.ran() == []
    assert remote.sha(BRANCH) == sha
    assert "return a + b" in (tree / "calc.py").read_text()


def test_git_environment_keeps_nothing_of_the_operators_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_git.install(tmp_path / "hostile", monkeypatch, "env-global")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'filter.evil.smudge'='false'")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_SSL_NO_VERIFY", "GIT_ASKPASS", "GIT_EXEC_PATH"):
        monkeypatch.setenv(name, "operator")
    monkeypatch.setenv("SSH_ASKPASS", "/usr/bin/ask")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    env = git_environment([*BASE_CONFIG, ("http.extraHeader", "x")], {"GIT_AUTHOR_NAME": "bot"})

    operator_git = {k for k in env if k.startswith("GIT_")} - {
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_ATTR_NOSYSTEM",
        "GIT_TERMINAL_PROMPT",
        "GIT_CONFIG_COUNT",
        "GIT_AUTHOR_NAME",
        *(f"GIT_CONFIG_{kv}_{i}" for kv in ("KEY", "VALUE") for i in range(len(BASE_CONFIG) + 1)),
    }
    assert operator_git == set()
    assert env["GIT_CONFIG_GLOBAL"] == env["GIT_CONFIG_SYSTEM"] == "/dev/null"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_ATTR_NOSYSTEM"] == "1"
    home = Path(env["HOME"])
    assert home != tmp_path / "hostile" / "home" and home.is_dir() and not any(home.iterdir())
    assert "SSH_ASKPASS" not in env
    assert env["HTTPS_PROXY"] == "http://proxy.internal:3128"  # network settings stay
    assert env["GIT_CONFIG_COUNT"] == str(len(BASE_CONFIG) + 1)
