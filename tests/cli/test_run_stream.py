"""`issuewright run` with streamed calls: tokens shown while the answer arrives, `llm_plan`
asked as the app asks it, a resumed run on the commit it started from, an endpoint that is
down. The model is the scripted server over real HTTP, answering in SSE."""

from __future__ import annotations

import io
import json
import re
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.cli import progress
from tests.cli.test_plan_cli import BUG_REPORT, CALC, TASK_LIST, write
from tests.cli.test_run_cli import (
    FIX,
    SPEC,
    clean_env,  # noqa: F401  (the same environment: no LLM_* of the developer's)
    git,
    run,
    run_json,
    state,
)
from tests.llm_stub import chat_completion, stream_events
from tests.recording_server import SSE, Recorded, recording_server, unused_port

SAFETY = 60  # seconds a hook waits for the client before the test fails; never a timing


def use_server(monkeypatch: pytest.MonkeyPatch, url: str, price: str = "1:2") -> None:
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "local-model")
    monkeypatch.setenv("LLM_API_KEY", "sk-test-not-real")
    monkeypatch.setenv("LLM_BASE_URL", url + "/v1")
    monkeypatch.setenv("LLM_PRICING", f"local-model:{price}")


def note_answer(n: int) -> str:
    """An answer that always applies: a new file of its own."""
    return (
        f"Adding a note.\n\nnotes/{n}.md\n```\n<<<<<<< SEARCH\n=======\nnote {n}\n"
        ">>>>>>> REPLACE\n```\n\nSUMMARY: a note\n"
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo_with(tmp_path)


class Screen(io.StringIO):
    """A terminal's screen: `shows(text)` is set once `text` has been drawn on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def shows(self, text: str) -> threading.Event:
        with self.lock:
            event = self.waiting.setdefault(text, threading.Event())
            if text in self.getvalue():
                event.set()
        return event

    def write(self, s: str) -> int:
        with self.lock:
            n = super().write(s)
            screen = self.getvalue()
            for text, event in self.waiting.items():
                if text in screen:
                    event.set()
        return n


# ---------------------------------------------------------------- live tokens


def test_the_live_table_shows_tokens_while_the_answer_is_still_streaming(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server sends the first 40 characters of the answer (10 tokens by the estimate),
    then holds the rest until the table shows them: the count is drawn before the answer
    ends, from the stream, not from the usage that comes last."""
    screen = Screen()
    console = Console(file=screen, force_terminal=True, width=160)
    monkeypatch.setattr(progress, "stderr_console", lambda: console)
    seen: dict[str, bool] = {}

    def answer(request: Recorded) -> tuple[int, Any]:
        body = json.loads(request.body)
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        completion = chat_completion(FIX, body["model"], 900, 321)
        events = stream_events(completion, [FIX[:40], FIX[40:]])

        def between(n: int) -> None:
            if n == 2:  # the role chunk and the first 40 characters are on the wire
                seen["drawn"] = screen.shows("10… out").wait(SAFETY)

        return 200, SSE(events, between)

    with recording_server(answer) as server:
        use_server(monkeypatch, server.url)
        issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
        code, report = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 0, report
    assert seen == {"drawn": True}
    assert report["tasks"][0]["tokens"] == {"input": 900, "output": 321}  # the usage's count
    assert "asking local-model" in screen.getvalue()


def test_off_a_terminal_a_long_answer_is_logged_every_thousand_tokens(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The log line for the first thousand tokens is written while the server still holds
    the rest of the answer back (and only one: the rest stays under the next thousand)."""
    long_answer = "Thinking it through. " * 250 + FIX  # ~5,400 characters: ~1,350 tokens
    lines: list[str] = []
    logged = threading.Event()
    seen: dict[str, bool] = {}

    import bot.cli.run_local as run_local

    def say(text: str) -> None:
        lines.append(text)
        if "tokens of the answer so far" in text:
            logged.set()

    monkeypatch.setattr(run_local, "say_stderr", say)

    def answer(request: Recorded) -> tuple[int, Any]:
        body = json.loads(request.body)
        completion = chat_completion(long_answer, body["model"], 900, 1300)
        events = stream_events(completion, [long_answer[:4400], long_answer[4400:]])

        def between(n: int) -> None:
            if n == 2:
                seen["logged"] = logged.wait(SAFETY)

        return 200, SSE(events, between)

    with recording_server(answer) as server:
        use_server(monkeypatch, server.url)
        issue = write(tmp_path, "bug.md", "# calc.add is wrong\n\n" + BUG_REPORT)
        code, _ = run_json(capsys, "--issue-file", str(issue), "--repo", str(repo))
    assert code == 0
    assert seen == {"logged": True}, "\n".join(lines)
    assert "task 1: 1,100 tokens of the answer so far" in lines  # 4,400 characters, estimated
    assert any(line.startswith("task 1: answered: 900 in / 1,300 out tokens") for line in lines)


# ---------------------------------------------------------------- llm_plan


GROUPED = {"tasks": [{"items": [1, 4], "depends_on": []}, {"items": [3], "depends_on": [1]}]}


def make_repo_with(tmp_path: Path, config: str | None = None) -> Path:
    root = tmp_path / "calc"
    files = {**CALC, ".github/issuewright.yml": config} if config else CALC
    for name, text in files.items():
        write(root, name, text)
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.name", "Ada Lovelace")
    git(root, "config", "user.email", "ada@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "calc")
    return root


def planning_then_notes(grouped: Any = GROUPED) -> Callable[[Recorded], tuple[int, Any]]:
    count: list[int] = []

    def answer(request: Recorded) -> tuple[int, Any]:
        body = json.loads(request.body)
        count.append(1)
        if "response_format" in body:  # the grouping call asks for JSON
            content = json.dumps(grouped)
        else:
            content = note_answer(len(count))
        return 200, chat_completion(content, body["model"], 1000, len(content) // 4)

    return answer


def test_llm_plan_groups_the_tasks_after_the_question_and_is_counted_in_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo_with(tmp_path, "llm_plan: true\n")
    issue = str(write(tmp_path, "tasks.md", TASK_LIST))
    with recording_server(planning_then_notes()) as server:
        use_server(monkeypatch, server.url)
        args = ["--issue-file", issue, "--title", "Grow calc", "--repo", str(root)]
        _, out, _ = run(capsys, *args, "--dry-run", "--json")
        assert server.requests == []  # the dry run shows the rules' plan and asks nothing
        assert len(json.loads(out)["tasks"]) == 3
        code, report = run_json(capsys, *args)
        requests = [json.loads(r.body) for r in server.requests]
    assert code == 0, report
    assert "response_format" in requests[0] and len(requests) == 3  # planning, then 2 tasks
    assert [t["title"][:3] for t in report["tasks"]] == ["Add", "Add"]  # 1+4 grouped, then 3
    folder = root / ".issuewright" / "runs" / report["run_id"]
    saved = json.loads((folder / "report.json").read_text())
    planning = saved["planning_usd"]
    assert planning == pytest.approx((1000 * 1 + len(json.dumps(GROUPED)) // 4 * 2) / 1e6)
    assert report["cost_usd"] == pytest.approx(
        planning + sum(t["cost_usd"] for t in report["tasks"]), abs=1e-6
    )
    assert saved["issue"]["grouping"]["tasks"] == [[[1, 4], []], [[3], [1]]]


def test_a_dependency_chain_runs_in_order_each_task_on_the_branch_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 → 3 → 4, run with room for two at once: each task waits for the one it depends on
    and starts from that task's commit."""
    chain = {
        "tasks": [
            {"items": [1], "depends_on": []},
            {"items": [3], "depends_on": [1]},
            {"items": [4], "depends_on": [3]},
        ]
    }
    root = make_repo_with(tmp_path, "llm_plan: true\n")
    base = git(root, "rev-parse", "HEAD")
    issue = str(write(tmp_path, "tasks.md", TASK_LIST))
    with recording_server(planning_then_notes(chain)) as server:
        use_server(monkeypatch, server.url)
        args = ["--issue-file", issue, "--title", "Grow calc", "--repo", str(root)]
        code, report = run_json(capsys, *args, "--parallel", "2")
        assert len(server.requests) == 4
    assert code == 0, report
    commits = [t["commit"] for t in report["tasks"]]
    assert [t["state"] for t in report["tasks"]] == ["done"] * 3
    parents = [git(root, "rev-parse", f"{c}~1") for c in commits]
    assert parents == [base, commits[0], commits[1]]


def test_llm_plan_is_never_asked_past_max_usd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo_with(tmp_path, "llm_plan: true\n")
    issue = str(write(tmp_path, "tasks.md", TASK_LIST))
    with recording_server(planning_then_notes()) as server:
        use_server(monkeypatch, server.url)
        args = ["--issue-file", issue, "--title", "Grow calc", "--repo", str(root)]
        code, report = run_json(capsys, *args, "--max-usd", "0")
    assert code == 1 and server.requests == []
    folder = root / ".issuewright" / "runs" / report["run_id"]
    why = json.loads((folder / "report.json").read_text())["issue"]["grouping"]["why"]
    assert "the budget gate refused the call" in why


# ---------------------------------------------------------------- resume


def test_a_resumed_run_plans_and_branches_from_the_commit_it_started_from(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    count: list[int] = []

    def answer(request: Recorded) -> tuple[int, Any]:
        count.append(1)
        body = json.loads(request.body)
        content = note_answer(len(count))
        return 200, chat_completion(content, body["model"], 1000, 50)

    with recording_server(answer) as server:
        use_server(monkeypatch, server.url, price="100:200")
        issue = str(write(tmp_path, "spec.md", SPEC + "Two changes.\n"))
        _, out, _ = run(capsys, "--issue-file", issue, "--repo", str(repo), "--dry-run", "--json")
        first = json.loads(out)["tasks"][0]["estimate"]["cost_usd"]
        base = git(repo, "rev-parse", "HEAD")
        cap = f"{first:.6f}"
        code, out, _ = run(
            capsys, "--issue-file", issue, "--repo", str(repo), "--yes", "--max-usd", cap
        )
        assert code == 1 and len(server.requests) == 1
        found = re.search(r"run (\S+): record", out)
        assert found
        # The user goes on working on their branch before resuming.
        ops = CALC["calc/ops.py"] + "\n\ndef later_work() -> None:\n    pass\n"
        write(repo, "calc/ops.py", ops)
        git(repo, "commit", "-qam", "later work")
        moved = git(repo, "rev-parse", "HEAD")
        code, report = run_json(capsys, "--resume", found.group(1), "--repo", str(repo))
    assert code == 0, report
    second = report["tasks"][1]
    assert second["state"] == "done"
    ancestor = ["merge-base", "--is-ancestor"]
    git(repo, *ancestor, base, second["commit"])  # raises if not
    with pytest.raises(subprocess.CalledProcessError):
        git(repo, *ancestor, moved, second["commit"])
    folder = repo / ".issuewright" / "runs" / found.group(1)
    prompt = (folder / "task-2" / "attempt-1" / "round-1-prompt.md").read_text()
    assert "later_work" not in prompt  # planned from the run's commit, not today's HEAD
    assert json.loads((folder / "report.json").read_text())["issue"]["head"] == base


# ---------------------------------------------------------------- endpoint down


def test_an_unreachable_endpoint_is_one_line_exit_2_after_the_retries(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = unused_port()
    use_server(monkeypatch, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LLM_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("LLM_RETRY_BACKOFF_SECONDS", "0")  # no waiting between attempts
    write(repo, "notes.txt", "mine\n")
    before = state(repo)
    issue = str(write(tmp_path, "tasks.md", TASK_LIST))
    code, out, err = run(
        capsys, "--issue-file", issue, "--title", "Grow calc", "--repo", str(repo), "--yes"
    )
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith("issuewright: error: The LLM provider is unavailable")
    assert f"tried 127.0.0.1:{port} (openai, model local-model) 3 time(s)" in line
    assert "check LLM_BASE_URL" in line and "sk-test-not-real" not in err + out
    assert state(repo) == before
    assert git(repo, "branch", "--list", "issuewright/*") == ""
    assert git(repo, "worktree", "list").count("\n") == 0
