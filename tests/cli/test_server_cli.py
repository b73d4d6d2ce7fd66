"""The `issuewright` server commands as a user runs them: a real process, a temporary
working directory (so no `.env` of the developer's is read), settings from the environment.

Failures must be one line on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store.db import make_engine, make_session_factory
from bot.store.models import Delivery, utcnow
from bot.store.queue import new_job

BIN = Path(sys.executable).parent
# Settings the developer's shell may carry; none must leak into these runs.
SETTING_NAMES = {
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "DATABASE_URL",
    "ENV_FILE",
    "PORT",
    "HOST",
    "LOG_LEVEL",
    "LOG_FORMAT",
}


def run(
    args: list[str], cwd: Path, *, module: bool = False, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`issuewright ARGS` (the installed entry point) or `python -m bot ARGS`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update(settings)
    command = [sys.executable, "-m", "bot"] if module else [str(BIN / "issuewright")]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("issuewright: ")
    return lines[0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'iw.db'}"


async def store_dead_delivery(url: str, delivery_id: str) -> None:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            session.add(
                Delivery(
                    delivery_id=delivery_id,
                    event="issues",
                    action="labeled",
                    repository="octo-org/hello",
                    payload="{}",
                    received_at=utcnow(),
                    status="dead",
                    reason="handler failed",
                )
            )
            job = new_job("delivery", delivery_id=delivery_id)
            job.status, job.attempts = "dead", 5
            job.last_error = "RuntimeError: boom\nsecond line not shown"
            session.add(job)
    finally:
        await engine.dispose()


def test_help_through_python_m_bot(workdir: Path) -> None:
    done = run(["--help"], workdir, module=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: issuewright")
    for command in ("serve", "worker", "db", "deliveries", "replay", "jobs"):
        assert command in done.stdout


def test_unknown_subcommand_prints_usage(workdir: Path) -> None:
    done = run(["frobnicate"], workdir)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: issuewright")
    assert "invalid choice: 'frobnicate'" in done.stderr
    assert "Traceback" not in done.stderr


async def test_upgrade_then_inspect_and_replay(workdir: Path, db_url: str, tmp_path: Path) -> None:
    done = run(["db", "upgrade"], workdir, DATABASE_URL=db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("database is at revision ")
    assert (tmp_path / "iw.db").is_file()
    assert not (workdir / "issuewright.db").exists()  # DATABASE_URL, not the default, is used
    # Running it again is harmless.
    assert run(["db", "upgrade"], workdir, DATABASE_URL=db_url).returncode == 0

    assert run(["deliveries"], workdir, DATABASE_URL=db_url).stdout == "no deliveries stored\n"
    assert run(["jobs"], workdir, DATABASE_URL=db_url).stdout == "no queued/running/dead jobs\n"

    await store_dead_delivery(db_url, "d-4711")
    listed = run(["deliveries"], workdir, DATABASE_URL=db_url)
    assert listed.returncode == 0, listed.stderr
    # Not a terminal: a header line, then one row per delivery, columns two spaces apart.
    header, row = (re.split(r"\s{2,}", line) for line in listed.stdout.splitlines())
    assert header == ["received (UTC)", "delivery", "event", "status", "reason"]
    assert row[1:] == ["d-4711", "issues.labeled", "dead", "handler failed"]
    jobs = run(["jobs", "--json"], workdir, DATABASE_URL=db_url)
    [dead] = json.loads(jobs.stdout)["jobs"]
    assert (dead["status"], dead["delivery_id"], dead["attempts"]) == ("dead", "d-4711", 5)
    text = run(["jobs"], workdir, DATABASE_URL=db_url).stdout
    header, row = (re.split(r"\s{2,}", line.strip()) for line in text.splitlines())
    assert header == ["job", "kind", "status", "attempts", "for", "last error"]
    assert row[1:] == ["delivery", "dead", "5/5", "d-4711", "RuntimeError: boom"]

    replayed = run(["replay", "d-4711"], workdir, DATABASE_URL=db_url)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.startswith("delivery d-4711 queued again as job ")
    queued = json.loads(
        run(["jobs", "--json", "--status", "queued"], workdir, DATABASE_URL=db_url).stdout
    )["jobs"]
    assert [j["delivery_id"] for j in queued] == ["d-4711"]
    again = json.loads(run(["deliveries", "--json"], workdir, DATABASE_URL=db_url).stdout)
    assert again["deliveries"][0]["status"] == "queued"
    assert again["deliveries"][0]["reason"] is None


def test_replay_of_a_missing_delivery(workdir: Path, db_url: str) -> None:
    assert run(["db", "upgrade"], workdir, DATABASE_URL=db_url).returncode == 0
    done = run(["replay", "no-such-delivery"], workdir, DATABASE_URL=db_url)
    line = assert_one_line_error(done)
    assert "no delivery 'no-such-delivery' is stored" in line
    assert done.stdout == ""


async def store_dead_generate_job(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            job = new_job("generate", payload={"task_id": 1})
            job.status, job.attempts, job.last_error = "dead", 5, "JobTimeout"
            session.add(job)
            await session.flush()
            return int(job.id)
    finally:
        await engine.dispose()


async def test_replay_of_a_dead_job_without_a_delivery(workdir: Path, db_url: str) -> None:
    assert run(["db", "upgrade"], workdir, DATABASE_URL=db_url).returncode == 0
    job_id = await store_dead_generate_job(db_url)
    done = run(["replay", "--job", str(job_id)], workdir, DATABASE_URL=db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"job {job_id} queued again\n"
    [queued] = json.loads(
        run(["jobs", "--json", "--status", "queued"], workdir, DATABASE_URL=db_url).stdout
    )["jobs"]
    assert (queued["kind"], queued["attempts"]) == ("generate", 0)
    # A second replay (a double click, a job already queued) changes nothing and says why.
    again = run(["replay", "--job", str(job_id)], workdir, DATABASE_URL=db_url)
    assert f"job {job_id} is not a dead job" in assert_one_line_error(again)
    neither = run(["replay"], workdir, DATABASE_URL=db_url)
    assert "name a delivery id or `--job ID`" in assert_one_line_error(neither)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["deliveries"], ["jobs"]])
def test_unreachable_postgresql(workdir: Path, command: list[str]) -> None:
    # Port 1 on loopback: refused at once, no network involved.
    url = "postgresql+asyncpg://issuewright:pg-Secret-8812@127.0.0.1:1/issuewright"
    done = run(command, workdir, DATABASE_URL=url)
    line = assert_one_line_error(done)
    assert "pg-Secret-8812" not in done.stderr + done.stdout
    assert "127.0.0.1:1" in line and "DATABASE_URL" in line


def test_bad_setting_is_one_line(workdir: Path, db_url: str) -> None:
    done = run(["deliveries"], workdir, DATABASE_URL=db_url, LOG_LEVEL="LOUD")
    assert "LOG_LEVEL" in assert_one_line_error(done)


def test_settings_come_from_dotenv_in_the_working_directory(workdir: Path, db_url: str) -> None:
    (workdir / ".env").write_text(f"DATABASE_URL={db_url}\n")
    done = run(["db", "upgrade"], workdir)
    assert done.returncode == 0, done.stderr
    assert not (workdir / "issuewright.db").exists()


def test_every_error_has_one_style_and_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    from tests.cli.test_plan_cli import EXE, env_for_subprocess

    env = env_for_subprocess()
    # One style for a bad argument (argparse), a missing file and a bad setting.
    for args, extra in (
        (["deliveries", "--status", "nope"], {}),
        (["apply", "--repo", str(tmp_path / "nope"), "--answer", "x.md"], {}),
        (["plan", "--issue-file", str(tmp_path / "nope.md")], {}),
        (["jobs"], {"LOG_FORMAT": "xml"}),
    ):
        proc = subprocess.run(
            [str(EXE), *args], capture_output=True, text=True, env={**env, **extra}, cwd=tmp_path
        )
        assert proc.returncode == 2, (args, proc.stderr)
        [line] = proc.stderr.strip().splitlines()[-1:]
        assert line.startswith("issuewright: error: "), (args, proc.stderr)

    # `issuewright … | head`: the reader is gone before the first line is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [str(EXE), "prompts", "check"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    os.close(write_end)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert proc.returncode == 141

    version = subprocess.run([str(EXE), "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.startswith("issuewright 0.")


def test_inspection_commands_never_create_a_database_and_say_to_upgrade(tmp_path: Path) -> None:
    from tests.cli.test_plan_cli import EXE, env_for_subprocess

    env = {**env_for_subprocess(), "DATABASE_URL": ""}  # the default: ./issuewright.db
    for command in (["jobs"], ["deliveries"], ["replay", "d-1"]):
        proc = subprocess.run(
            [str(EXE), *command], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert proc.returncode == 2
        assert "issuewright db upgrade" in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "issuewright.db").exists()  # nothing was created

    # A database file without the schema (made by something else) is named as such.
    import sqlite3

    sqlite3.connect(tmp_path / "issuewright.db").close()
    proc = subprocess.run([str(EXE), "jobs"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert "has no Issuewright tables" in proc.stderr and "issuewright db upgrade" in proc.stderr
