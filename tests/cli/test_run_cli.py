"""`issuewright run`: an issue taken through the app's pipeline on a real local checkout, the
model a scripted OpenAI-compatible server over real HTTP, the app's real client."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.cli import progress
from bot.cli.main import main
from tests.cli.test_plan_cli import BUG_REPORT, CALC, EXE, TASK_LIST, write
from tests.llm_stub import chat_completion
from tests.recording_server import Recorded, RecordingServer, recording_server

FIX = (
    "Here is the change.\n\ncalc/ops.py\n```\n<<<<<<< SEARCH\n"
    "def add(a: int, b: int) -> int:\n    return a - b\n=======\n"
    "def add(a: int, b: int) -> int:\n    return a + b\n>>>>>>> REPLACE\n```\n\n"
    "SUMMARY: add adds\n"
)
REFUSAL = "I'm sorry, but I can't help with that."


def git(root: Path, *args: str) -> str:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return done.stdout.decode().strip()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("LLM_", "GITHUB_", "DATABASE_", "MAX_", "RUN_")) or name in {
            "ENV_FILE"
        }:
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "calc"
    for name, text in CALC.items():
        write(root, name, text)
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.name", "Ada Lovelace")
    git(root, "config", "user.email", "ada@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "calc")
    return root


def answering(*contents: str) -> Callable[[Recorded], tuple[int, Any]]:
    seen: list[int] = []

    def answer(request: Recorded) -> tuple[int, Any]:
        seen.append(1)
        content = contents[min(len(seen), len(contents)) - 1]
        body = json.loads(request.body)
        prompt = sum(len(m["content"]) for m in body["messages"])
        return 200, chat_completion(content, body["model"], prompt // 4, len(content) // 4)

    return answer


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., RecordingServer]]:
    servers: list[Any] = []

    def start(*contents: str, price: str = "1:2") -> RecordingServer:
        cm = recording_server(answering(*contents))
        server = cm.__enter__()
        servers.append(cm)
        monkeypatch.setenv("LLM_PROVIDER", "openai")
        monkeypatch.setenv("LLM_MODEL", "local-model")
        monkeypatch.setenv("LLM_API_KEY", "sk-test-not-real")
        monkeypatch.setenv("LLM_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("LLM_PRICING", f"local-model:{price}")
        return server

    yield start
    for cm in servers:
        cm.__exit__(None, None, None)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["run", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def state(root: Path) -> tuple[str, str, str, str]:
    """What the user sees of their checkout: branch, commit, status and diff."""
    return (
        git(root, "rev-parse", "--symbolic-full-name", "HEAD"),
        git(root, "rev-parse", "HEAD"),
        git(root, "status", "--porcelain=v1", "--untracked-files=all"),
        git(root, "diff", "HEAD"),
    )


# ---------------------------------------------------------------- slice 1: input and plan


def test_dry_run_prints_the_plan_and_calls_and_writes_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(FIX)
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    before = state(repo)
    code, out, err = run(capsys, "--issue-file", str(issue), "--repo", str(repo), "--dry-run")
    assert (code, err) == (0, "")
    assert "1 task(s) · model local-model" in out and "calc/ops.py" in out
    assert server.requests == []
    assert state(repo) == before and not (repo / ".issuewright").exists()


def test_show_prompt_prints_the_messages_the_app_would_send(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(FIX)
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    write(repo, "notes.txt", "mine, not committed\n")
    before = state(repo)
    args = ["--issue-file", str(issue), "--title", "calc.add is wrong", "--repo", str(repo)]
    code, out, _ = run(capsys, *args, "--show-prompt")
    assert code == 0 and server.requests == []
    assert "--- system ---" in out and "--- user ---" in out
    assert "calc.add is wrong" in out and "return a - b" in out  # the packed code
    assert state(repo) == before and not (repo / ".issuewright").exists()
    assert git(repo, "branch", "--list", "issuewright/*") == ""


def test_a_spec_with_front_matter_gives_its_title_and_tasks(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "---\ntitle: Grow calc\nlabels: [enhancement]\ntasks:\n  - Add mul\n  - Add div\n---\n"
    issue = write(tmp_path, "spec.md", spec + "More operations.\n")
    code, out, _ = run(
        capsys, "--issue-file", str(issue), "--repo", str(repo), "--dry-run", "--json"
    )
    result = json.loads(out)
    assert code == 0 and [t["title"] for t in result["tasks"]] == ["Add mul", "Add div"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "does not exist"),
        ("empty", "is empty"),
        ("not_git", "is not a git checkout"),
        ("detached", "is detached"),
        ("unborn", "has no commit yet"),
        ("negative", "--max-usd must be 0 or more"),
        ("no_llm", "no LLM is configured: set LLM_BASE_URL and LLM_MODEL"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    expected: str,
) -> None:
    issue = write(tmp_path, "bug.md", BUG_REPORT)
    where = repo
    extra: list[str] = []
    if setup == "missing":
        issue = tmp_path / "nope.md"
    elif setup == "empty":
        issue = write(tmp_path, "empty.md", "  \n")
    elif setup == "not_git":
        where = tmp_path / "plain"
        where.mkdir()
    elif setup == "detached":
        git(repo, "checkout", "-q", "--detach")
    elif setup == "unborn":
        where = tmp_path / "fresh"
        git(tmp_path, "init", "-q", str(where))
    elif setup == "negative":
        extra = ["--max-usd", "-1"]
    before = state(repo)
    code, out, err = run(capsys, "--issue-file", str(issue), "--repo", str(where), "--yes", *extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("issuewright: error: ") and expected in err
    assert state(repo) == before and not (repo / ".issuewright").exists()


# ---------------------------------------------------------------- slice 2: running tasks


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, *args, "--yes", "--json")
    return code, json.loads(out)


def test_a_task_is_done_on_its_own_branch_committed_as_the_user_and_nothing_else_moves(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(FIX)
    write(repo, "notes.txt", "mine, not committed\n")  # a dirty tree: untracked…
    write(repo, "calc/ops.py", CALC["calc/ops.py"] + "# local edit\n")  # …and modified
    git(repo, "add", "calc/ops.py")  # …and staged
    write(repo, "README.md", CALC["README.md"] + "unstaged\n")
    before = state(repo)
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 0, report
    assert len(server.requests) == 1
    [task] = report["tasks"]
    assert set(report) == {"version", "run_id", "tasks", "cost_usd"}
    assert set(task) == {
        "key",
        "title",
        "state",
        "branch",
        "commit",
        "files",
        "tokens",
        "cost_usd",
        "error",
    }
    assert task["state"] == "done" and task["error"] is None
    assert task["branch"] == "issuewright/calc-add-is-wrong-1"
    assert task["files"] == ["calc/ops.py"] and task["cost_usd"] > 0
    assert git(repo, "show", f"{task['branch']}:calc/ops.py").startswith(
        "def add(a: int, b: int) -> int:\n    return a + b"
    )
    assert git(repo, "log", "-1", "--format=%an <%ae>", task["branch"]) == (
        "Ada Lovelace <ada@example.com>"
    )
    message = git(repo, "log", "-1", "--format=%B", task["branch"])
    assert "local-model" in message and "Issuewright task 1" in message
    assert git(repo, "rev-parse", f"{task['branch']}~1") == git(repo, "rev-parse", "HEAD")
    assert state(repo) == before  # branch, index and files exactly as they were
    assert git(repo, "worktree", "list").count("\n") == 0  # the task's worktree is gone
    folder = repo / ".issuewright" / "runs" / report["run_id"]
    saved = json.loads((folder / "report.json").read_text())
    assert saved["tasks"] == report["tasks"] and saved["run_id"] == report["run_id"]
    attempt = folder / "task-1" / "attempt-1"
    assert "## system" in (attempt / "round-1-prompt.md").read_text()
    assert (attempt / "round-1-answer.md").read_text() == FIX
    assert json.loads((attempt / "round-1-apply.json").read_text())["ok"] is True
    assert "return a + b" in (attempt / "diff.patch").read_text()
    assert f"git switch {task['branch']}" in (folder / "report.md").read_text()
    assert "/.issuewright/" in (repo / ".git" / "info" / "exclude").read_text()
    assert git(repo, "remote") == ""  # and nothing was pushed anywhere


def test_a_refused_answer_is_kept_and_the_task_fails_with_the_reason(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(REFUSAL)
    before = state(repo)
    branches = git(repo, "branch", "--list")
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 1
    [task] = report["tasks"]
    assert task["state"] == "failed" and task["commit"] is None and task["error"]
    # What to do next, for a local run: resume it, not a comment command on GitHub.
    assert task["error"].endswith(f"Resume with `issuewright run --resume {report['run_id']}`.")
    assert "/issuewright" not in task["error"]
    assert len(server.requests) == 2  # the answer and the one repair round
    attempt = repo / ".issuewright" / "runs" / report["run_id"] / "task-1" / "attempt-1"
    assert (attempt / "round-1-answer.md").read_text() == REFUSAL
    assert (attempt / "round-2-answer.md").read_text() == REFUSAL
    assert state(repo) == before and git(repo, "branch", "--list") == branches


# ---------------------------------------------------------------- slice 3: cost


SPEC = (
    "---\ntitle: Grow calc\ntasks:\n  - Fix add in calc/ops.py\n  - Add mul to calc/ops.py\n---\n"
)


def test_no_call_is_sent_past_max_usd_and_the_run_says_how_to_resume(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(FIX, price="100:200")
    issue = str(write(tmp_path, "spec.md", SPEC + "Two changes.\n"))
    code, out, _ = run(capsys, "--issue-file", issue, "--repo", str(repo), "--dry-run", "--json")
    first = json.loads(out)["tasks"][0]["estimate"]["cost_usd"]
    cap = f"{first * 1.01:.6f}"  # the first call fits; with what it cost, the next cannot
    code, out, _ = run(
        capsys, "--issue-file", issue, "--repo", str(repo), "--yes", "--max-usd", cap
    )
    assert code == 1
    assert len(server.requests) == 1
    assert "would take the run past --max-usd" in out and "spent" in out
    run_id = re.search(r"run (\S+): record", out)
    assert run_id and f"issuewright run --resume {run_id.group(1)}" in out


def test_warn_usd_is_said_once(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(REFUSAL)
    issue = str(write(tmp_path, "spec.md", SPEC + "Two changes.\n"))
    code, _, err = run(
        capsys, "--issue-file", issue, "--repo", str(repo), "--yes", "--json", "--warn-usd", "0"
    )
    assert code == 1 and len(server.requests) >= 2
    assert err.count("past --warn-usd") == 1


# ---------------------------------------------------------------- slice 4: resume, parallel


def test_resume_skips_done_tasks_and_retries_the_rest(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(FIX, price="100:200")
    issue = str(write(tmp_path, "spec.md", SPEC + "Two changes.\n"))
    _, out, _ = run(capsys, "--issue-file", issue, "--repo", str(repo), "--dry-run", "--json")
    first = json.loads(out)["tasks"][0]["estimate"]["cost_usd"]
    code, out, _ = run(
        capsys, "--issue-file", issue, "--repo", str(repo), "--yes", "--max-usd", f"{first:.6f}"
    )
    assert code == 1 and len(server.requests) == 1
    run_id = re.search(r"run (\S+): record", out)
    assert run_id
    code, report = run_json(capsys, "--resume", run_id.group(1), "--repo", str(repo))
    states = [t["state"] for t in report["tasks"]]
    assert report["run_id"] == run_id.group(1)
    assert states[0] == "done"
    assert len(server.requests) >= 2  # the second task was asked, the first was not again
    assert all(t["state"] != "pending" for t in report["tasks"]), report


def test_an_unknown_resume_id_is_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    llm(FIX)
    code, _, err = run(capsys, "--resume", "20260101-000000-abcd", "--repo", str(repo))
    assert code == 2 and "there is no run '20260101-000000-abcd'" in err


def test_parallel_runs_independent_tasks_at_once_and_a_dependent_after_them(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks 1 and 3 are asked at once (the first two requests wait for each other); task 4,
    which depends on both, starts from their branches once both are done."""
    both_asked = threading.Barrier(2, timeout=60)
    lock = threading.Lock()
    count: list[int] = []

    def answer(request: Recorded) -> tuple[int, Any]:
        with lock:
            count.append(1)
            n = len(count)
        if n <= 2:
            both_asked.wait()
        content = f"Adding notes.\n\nnotes/{n}.md\n```\n<<<<<<< SEARCH\n=======\nnote {n}\n"
        content += ">>>>>>> REPLACE\n```\n\nSUMMARY: a note\n"
        body = json.loads(request.body)
        return 200, chat_completion(content, body["model"], 1000, 50)

    with recording_server(answer) as server:
        monkeypatch.setenv("LLM_PROVIDER", "openai")
        monkeypatch.setenv("LLM_MODEL", "local-model")
        monkeypatch.setenv("LLM_API_KEY", "sk-test-not-real")
        monkeypatch.setenv("LLM_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("LLM_PRICING", "local-model:0:0")
        issue = str(write(tmp_path, "tasks.md", TASK_LIST))
        code, report = run_json(
            capsys,
            "--issue-file",
            issue,
            "--title",
            "Grow calc",
            "--repo",
            str(repo),
            "--parallel",
            "2",
        )
    assert code == 0, report
    assert len(server.requests) == 3
    first, third, docs = report["tasks"]
    assert [t["state"] for t in report["tasks"]] == ["done"] * 3
    assert docs["title"].startswith("Document") and docs["branch"] == "issuewright/grow-calc-4"
    for dep in (first, third):
        ancestor = ["git", "-C", str(repo), "merge-base", "--is-ancestor", dep["commit"]]
        assert subprocess.run([*ancestor, docs["commit"]]).returncode == 0


# ---------------------------------------------------------------- slice 5: progress


def test_on_a_terminal_a_live_table_shows_each_task_and_stdout_stays_the_report(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    llm: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llm(FIX)
    shown = io.StringIO()
    console = Console(file=shown, force_terminal=True, width=160)
    monkeypatch.setattr(progress, "stderr_console", lambda: console)
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 0
    screen = shown.getvalue()
    assert f"issuewright run {report['run_id']}" in screen
    assert "done" in screen and "in /" in screen and "$0." in screen


def test_the_repositorys_task_budget_holds_as_in_the_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    root = tmp_path / "calc"
    for name, text in {**CALC, ".github/issuewright.yml": "task_budget_usd: 0.001\n"}.items():
        write(root, name, text)
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "-c", "user.name=A", "-c", "user.email=a@example.com", "add", "-A")
    git(root, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "calc")
    git(root, "config", "user.name", "Ada")
    git(root, "config", "user.email", "ada@example.com")
    server = llm(FIX, price="100:200")
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    md = tmp_path / "report.md"
    code, report = run_json(
        capsys, "--issue-file", str(issue), "--repo", str(root), "--report", str(md)
    )
    assert code == 1 and server.requests == []
    [task] = report["tasks"]
    assert task["state"] == "failed" and "task_budget_usd" in task["error"]
    assert "task_budget_usd" in md.read_text()


def test_an_existing_branch_of_the_same_name_is_left_alone_and_the_task_says_so(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    server = llm(FIX)
    git(repo, "branch", "issuewright/calc-add-is-wrong-1")
    mine = git(repo, "rev-parse", "issuewright/calc-add-is-wrong-1")
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 1 and server.requests == []
    assert "already exists" in report["tasks"][0]["error"]
    assert git(repo, "rev-parse", "issuewright/calc-add-is-wrong-1") == mine


def test_a_model_without_a_price_runs_with_a_warning_that_the_cap_cannot_hold(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any, monkeypatch: Any
) -> None:
    llm(FIX)
    monkeypatch.delenv("LLM_PRICING")
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, _, err = run(capsys, "--issue-file", str(issue), "--repo", str(repo), "--yes")
    assert code == 0
    assert "has no price" in err and "LLM_PRICING=local-model:" in err


def test_the_caps_default_to_the_settings(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any, monkeypatch: Any
) -> None:
    server = llm(FIX)
    monkeypatch.setenv("RUN_MAX_USD", "0")
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    code, out, _ = run(capsys, "--issue-file", str(issue), "--repo", str(repo), "--yes")
    assert code == 1 and server.requests == []
    assert "past --max-usd $0.00; $0.0000 spent" in out


def test_ctrl_c_leaves_no_half_task_and_the_run_resumes(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], llm: Any
) -> None:
    """Interrupted while the model is thinking: no branch, no worktree, the user's tree as
    it was, and the report says so; `--resume` then does the task."""
    asked, release = threading.Event(), threading.Event()

    def answer(request: Recorded) -> tuple[int, Any]:
        asked.set()
        release.wait(60)
        body = json.loads(request.body)
        return 200, chat_completion(FIX, body["model"], 1000, 50)

    write(repo, "notes.txt", "mine\n")
    before = state(repo)
    issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "RUN_"))},
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "local-model",
        "LLM_API_KEY": "sk-test-not-real",
        "LLM_PRICING": "local-model:1:2",
    }
    with recording_server(answer) as server:
        env["LLM_BASE_URL"] = server.url + "/v1"
        cmd = [str(EXE), "run", "--issue-file", str(issue), "--repo", str(repo), "--yes"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert asked.wait(120), proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=120)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130
    run_id = re.search(rb"run (\S+): record", out)
    assert run_id
    assert state(repo) == before
    assert git(repo, "branch", "--list", "issuewright/*") == ""
    assert git(repo, "worktree", "list").count("\n") == 0
    saved = json.loads(
        (repo / ".issuewright/runs" / run_id.group(1).decode() / "report.json").read_text()
    )
    assert saved["tasks"][0]["state"] == "failed" and saved["tasks"][0]["commit"] is None
    llm(FIX)
    code, report = run_json(capsys, "--resume", run_id.group(1).decode(), "--repo", str(repo))
    assert code == 0 and report["tasks"][0]["state"] == "done"
    assert state(repo) == before


def test_an_endpoint_that_refuses_the_key_is_one_line_exit_2_and_no_task_is_tried_again(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    def refuse(_request: Recorded) -> tuple[int, Any]:
        return 401, {"error": {"message": "bad key", "type": "invalid_request_error"}}

    with recording_server(refuse) as server:
        monkeypatch.setenv("LLM_PROVIDER", "openai")
        monkeypatch.setenv("LLM_MODEL", "local-model")
        monkeypatch.setenv("LLM_API_KEY", "sk-test-not-real")
        monkeypatch.setenv("LLM_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("LLM_PRICING", "local-model:0:0")
        issue = str(write(tmp_path, "tasks.md", TASK_LIST))
        before = state(repo)
        code, out, err = run(capsys, "--issue-file", issue, "--repo", str(repo), "--yes")
    assert code == 2
    assert err.startswith("issuewright: error: ") and err.count("\n") == 1
    assert "check LLM_BASE_URL, LLM_API_KEY" in err and "sk-test-not-real" not in err + out
    assert len(server.requests) == 1  # the other tasks were not sent to it
    assert state(repo) == before and git(repo, "branch", "--list", "issuewright/*") == ""
