"""`issuewright tasks`, `task show` and `apply --from-attempt` on a database holding tasks,
their transitions, attempts and records (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.attempt_record import joined_rounds, record_outcome, round_outcome
from bot.store.attempt_records import save_record
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Attempt, IssueRun, Task, Transition
from tests.cli.test_apply_cli import ANSWER, make_checkout

REFUSED = "docs/a.md\n```\n<<<<<<< SEARCH\nnot there\n=======\nhey\n>>>>>>> REPLACE\n```\n"
REASON = "docs/a.md: SEARCH text not found"


@dataclass
class Stored:
    url: str
    ids: dict[str, int]  # attempt name → id


async def store(url: str) -> Stored:
    engine = make_engine(url)
    ids: dict[str, int] = {}
    try:
        async with make_session_factory(engine)() as session, session.begin():
            run = IssueRun(repository="octo-org/calc", issue_number=7, installation_id=1)
            other = IssueRun(repository="octo-org/other", issue_number=3, installation_id=1)
            session.add_all([run, other])
            await session.flush()
            tasks = {}
            for name, r, ordinal, state, error in [
                ("fixed", run, 1, "merged", None),
                ("failed", run, 2, "failed", f"{REASON} — the model's answer was refused"),
                ("elsewhere", other, 1, "queued", None),
            ]:
                task = Task(
                    key=f"{r.repository}#{r.issue_number}/{ordinal}",
                    run_id=r.id,
                    repository=r.repository,
                    issue_number=r.issue_number,
                    ordinal=ordinal,
                    title=f"the {name} task",
                    task_type="bug_fix",
                    state=state,
                    last_error=error,
                    pr_number=11 if name == "fixed" else None,
                    attempts=1,
                    cost_usd=0.25,
                )
                session.add(task)
                await session.flush()
                tasks[name] = task
            session.add_all(
                [
                    Transition(
                        task_id=tasks["failed"].id,
                        event="start_generation",
                        from_state="queued",
                        to_state="generating",
                        cause="job:4",
                    ),
                    Transition(
                        task_id=tasks["failed"].id,
                        event="generation_failed",
                        from_state="generating",
                        to_state="failed",
                        cause="job:4",
                        reason=REASON,
                    ),
                ]
            )
            for name, task, kind, outcome in [
                ("applied", tasks["fixed"], "generate", "success"),
                ("refused", tasks["failed"], "generate", "failed"),
                ("localize", tasks["failed"], "localize", "done"),
                ("no answer", tasks["failed"], "generate", "failed"),
            ]:
                attempt = Attempt(task_id=task.id, kind=kind, model="gpt-4o", outcome=outcome)
                session.add(attempt)
                await session.flush()
                ids[name] = attempt.id
            await save_record(
                session,
                ids["applied"],
                system_prompt="You edit code.",
                user_prompt="Fix docs/a.md: it says hi",
                answer=joined_rounds([REFUSED, ANSWER], 256 * 1024),
                outcome=record_outcome(
                    [
                        round_outcome(1, applied=False, files=[], refused=[REASON]),
                        round_outcome(2, applied=True, files=["docs/a.md"], refused=[]),
                    ]
                ),
                diff="--- a/docs/a.md\n+++ b/docs/a.md\n-hi\n+ho\n",
            )
            await save_record(
                session,
                ids["refused"],
                answer=REFUSED,
                outcome=record_outcome(
                    [round_outcome(1, applied=False, files=[], refused=[REASON])]
                ),
            )
            await save_record(session, ids["localize"], answer="docs/a.md\n")
    finally:
        await engine.dispose()
    return Stored(url, ids)


@pytest.fixture
async def stored(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Stored:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("ENV_FILE", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    return await store(database_url)


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("issuewright: error: ")
    return line


async def test_tasks_lists_and_filters(stored: Stored, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await cli(capsys, "tasks")
    assert code == 0
    header, *rows = out.splitlines()
    assert re.split(r"\s{2,}", header)[:3] == ["task", "state", "PR"]
    assert sorted(row.split()[0] for row in rows) == [
        "octo-org/calc#7/1",
        "octo-org/calc#7/2",
        "octo-org/other#3/1",
    ]
    code, out, _ = await cli(capsys, "tasks", "--repo", "Octo-Org/Calc", "--state", "failed")
    [_, row] = out.splitlines()
    assert row.startswith("octo-org/calc#7/2") and REASON in row
    code, out, _ = await cli(capsys, "tasks", "--state", "fixing")
    assert out == "no tasks in state fixing\n"
    code, out, _ = await cli(capsys, "tasks", "--repo", "octo-org/other", "--json")
    doc = json.loads(out)
    assert doc["version"] and [t["key"] for t in doc["tasks"]] == ["octo-org/other#3/1"]
    assert doc["tasks"][0]["updated_at"].endswith("Z")


async def test_task_show_tells_the_history_and_the_stored_texts(
    stored: Stored, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await cli(capsys, "task", "show", "octo-org/calc#7/2")
    assert code == 0
    assert out.startswith("octo-org/calc#7/2  the failed task\n")
    assert f"last error: {REASON}" in out
    assert "generation_failed" in out and "generating" in out
    assert f"refused: {REASON}" in out  # what became of the answer, per attempt
    assert "──── attempt" not in out  # texts only when asked for

    code, out, _ = await cli(capsys, "task", "show", "octo-org/calc#7/1", "--prompt", "--answer")
    applied = stored.ids["applied"]
    assert "applied after a repair round: docs/a.md" in out
    assert f"──── attempt {applied} (generate): prompt ────" in out
    assert "## user\n\nFix docs/a.md: it says hi" in out
    assert ANSWER in out and "round 2: the repair round" in out
    assert "): diff ────" not in out

    code, out, _ = await cli(capsys, "task", "show", "octo-org/calc#7/2", "--diff")
    assert "(no diff stored for this attempt)" in out


async def test_task_show_without_n_shows_every_task_of_the_issue(
    stored: Stored, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await cli(capsys, "task", "show", "octo-org/calc#7", "--json", "--diff")
    assert code == 0
    doc = json.loads(out)
    assert [t["key"] for t in doc["tasks"]] == ["octo-org/calc#7/1", "octo-org/calc#7/2"]
    fixed, failed = doc["tasks"]
    assert fixed["attempts"][0]["record"]["diff"].endswith("+ho\n")
    assert "answer" not in fixed["attempts"][0]["record"]  # not asked for
    assert [t["to"] for t in failed["transitions"]] == ["generating", "failed"]
    assert failed["transitions"][1]["at"].endswith("Z")
    assert failed["attempts"][0]["record"]["outcome"]["refused"] == [REASON]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["task", "show", "calc#7"], "is not a task key: write OWNER/REPO#ISSUE"),
        (["task", "show", "octo-org/calc#7/x"], "is not a task key"),
        (["task", "show", "octo-org/calc#9"], "no task octo-org/calc#9 is stored"),
    ],
)
async def test_task_show_says_what_to_do_with_a_bad_key(
    stored: Stored, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert says in one_line_error(*await cli(capsys, *argv))


async def test_apply_from_attempt_replays_the_final_answer(
    stored: Stored, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = make_checkout(tmp_path / "checkout", None)
    applied = str(stored.ids["applied"])
    code, out, err = await cli(
        capsys, "apply", "--from-attempt", applied, "--repo", str(repo), "--dry-run"
    )
    assert code == 0, err
    assert "+ho" in out and "dry run: nothing written" in out
    assert f"attempt {applied}: replaying round 2's answer" in err
    assert (repo / "docs" / "a.md").read_text() == "hi\n"

    code, out, err = await cli(capsys, "apply", "--from-attempt", applied, "--repo", str(repo))
    assert code == 0, err
    assert (repo / "docs" / "a.md").read_text() == "ho\n"

    refused = str(stored.ids["refused"])
    code, out, _ = await cli(capsys, "apply", "--from-attempt", refused, "--repo", str(repo))
    assert code == 1 and "refused, nothing written" in out


@pytest.mark.parametrize(
    ("attempt", "says"),
    [
        ("no answer", "has no stored answer"),
        ("localize", "is a localize call, whose answer has no edits to apply"),
        (None, "no attempt 9999 is stored"),
    ],
)
async def test_apply_from_attempt_says_what_to_do(
    stored: Stored,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    attempt: str | None,
    says: str,
) -> None:
    repo = make_checkout(tmp_path / "checkout", None)
    ident = str(stored.ids[attempt]) if attempt else "9999"
    argv = ["apply", "--from-attempt", ident, "--repo", str(repo), "--dry-run"]
    assert says in one_line_error(*await cli(capsys, *argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["tasks"],
        ["task", "show", "octo-org/calc#7"],
        ["apply", "--from-attempt", "1", "--repo", ".", "--dry-run"],
    ],
)
def test_an_unreachable_database_is_one_line(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENV_FILE", raising=False)
    # Port 1 on loopback: refused at once, no network involved.
    url = "postgresql+asyncpg://issuewright:pg-Secret-8812@127.0.0.1:1/issuewright"
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(argv)
    out = capsys.readouterr()
    line = one_line_error(code, out.out, out.err)
    assert "DATABASE_URL" in line and "pg-Secret-8812" not in line
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    code = main(argv)
    out = capsys.readouterr()
    assert "run `issuewright db upgrade` first" in one_line_error(code, out.out, out.err)


def test_apply_needs_an_answer_or_an_attempt(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["apply", "--repo", ".", "--answer", "a.txt", "--from-attempt", "3"])
    assert done.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


async def test_apply_from_attempt_can_commit_it_on_a_new_branch(
    stored: Stored, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = make_checkout(tmp_path / "checkout", None)
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True)
        return done.stdout.decode().strip()

    git("config", "user.name", "Ada")
    git("config", "user.email", "ada@example.com")
    argv = ["apply", "--from-attempt", str(stored.ids["applied"]), "--repo", str(repo)]
    code, out, err = await cli(capsys, *argv, "--commit", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["files"] == ["docs/a.md"] and git("show", f"{result['branch']}:docs/a.md") == "ho"
    assert (repo / "docs" / "a.md").read_text() == "hi\n"  # the user's tree is left alone
