"""`issuewright check` as an operator runs it: a real process with a clean environment, GitHub
played by the simulator behind a real HTTP server (it verifies the App's JWT against the App's
public key), the LLM endpoint by a recording server, a real SQLite database and real git.

And the cheap checks `serve` and `worker` make at start: a key that does not parse or an
unknown LLM provider stops them with one line, before anything is created."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.store.migrate import alembic_config, upgrade_sync
from tests.ghsim import GitHubSimulator
from tests.ghsim.fixtures import new_app_private_key
from tests.ghsim.served import served_simulator
from tests.recording_server import Recorded, RecordingServer, recording_server, unused_port

BIN = Path(sys.executable).parent
WEBHOOK_SECRET = "whsec-check-0a1b2c3d4e5f"
LLM_KEY = "sk-check-abcdefghijklmnopqrstuv"


def clean_env(**settings: str) -> dict[str, str]:
    """Only what a process needs to start, then the settings: nothing from the developer's
    shell (an APP_ID or DATABASE_URL there) can change what is checked."""
    env = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update(settings)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines_by_name(stdout: str) -> dict[str, str]:
    """`ok   name  detail` lines by name (the last line is the summary)."""
    found = {}
    for line in stdout.splitlines()[:-1]:
        mark, _, rest = line.partition(" ")
        name = rest.strip().split("  ")[0]
        found[name] = f"{mark} {rest.strip()}"
    return found


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


@pytest.fixture
def sim(tmp_path: Path, app_private_key: str) -> Iterator[GitHubSimulator]:
    with served_simulator(tmp_path / "github", app_private_key) as served:
        yield served
    assert not served.violations


def models_list(*ids: str) -> Callable[[Recorded], tuple[int, object]]:
    """An OpenAI-compatible endpoint that lists `ids` at GET /v1/models."""

    def answer(request: Recorded) -> tuple[int, object]:
        if request.method == "GET" and request.path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]}
        return 404, {"error": {"message": "not here"}}

    return answer


@pytest.fixture
def llm() -> Iterator[RecordingServer]:
    with recording_server(models_list("gpt-4o-mini")) as server:
        yield server


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'iw.db'}"
    upgrade_sync(url)
    return url


@pytest.fixture
def good(
    tmp_path: Path, sim: GitHubSimulator, llm: RecordingServer, db_url: str, app_private_key: str
) -> dict[str, str]:
    """A configuration that passes every check."""
    return {
        "APP_ID": str(sim.app.id),
        "PRIVATE_KEY": app_private_key,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": sim.api_url,
        "PUBLIC_URL": "https://issuewright.example.com",
        "DATABASE_URL": db_url,
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": f"{llm.url}/v1",
        "LLM_MODEL": "gpt-4o-mini",
        "LLM_API_KEY": LLM_KEY,
        "FORMATTERS": "ruff=ruff format",
        "DATA_DIR": str(tmp_path / "data"),
    }


def assert_no_secret(done: subprocess.CompletedProcess[str], key: str) -> None:
    shown = done.stdout + done.stderr
    assert "Traceback" not in shown
    for secret in (WEBHOOK_SECRET, LLM_KEY, key.splitlines()[1]):
        assert secret not in shown


def test_a_good_configuration_passes_every_check(
    workdir: Path,
    good: dict[str, str],
    sim: GitHubSimulator,
    llm: RecordingServer,
    app_private_key: str,
) -> None:
    done = run(["check"], workdir, clean_env(**good))
    assert done.returncode == 0, done.stdout + done.stderr
    found = lines_by_name(done.stdout)
    expected = {
        "settings",
        "private key",
        "github app",
        "webhook secret",
        "public url",
        "dashboard login",
        "database",
        "llm default",
        "llm default prices",
        "formatter ruff",
        "git",
        "data dir",
    }
    assert expected <= set(found), done.stdout
    assert all(line.startswith("ok ") for line in found.values()), done.stdout  # not a terminal
    assert done.stdout.splitlines()[-1] == f"all {len(found)} checks passed"
    assert f"App issuewright (id {sim.app.id})" in found["github app"]
    assert "gpt-4o-mini $0.15/$0.6" in found["llm default prices"]
    # GitHub was asked as the App (the simulator checked the JWT), the LLM with its key.
    assert [r.template for r in sim.requests] == ["/app"]
    (models,) = llm.requests
    assert models.path == "/v1/models" and models.headers["authorization"] == f"Bearer {LLM_KEY}"
    assert_no_secret(done, app_private_key)
    # Checking changed nothing: the data folder is not made, no database appears here.
    assert not Path(good["DATA_DIR"]).exists() and list(workdir.iterdir()) == []


def test_the_dashboard_login_line_names_the_callback_and_the_operators(
    workdir: Path, good: dict[str, str]
) -> None:
    oauth = {"CLIENT_ID": "Iv1.abc", "CLIENT_SECRET": "s3cr3t-client", "ADMIN_LOGINS": "Ops, root"}
    done = run(["check"], workdir, clean_env(**good, **oauth))
    half = run(["check"], workdir, clean_env(**good, CLIENT_ID="Iv1.abc"))
    line = lines_by_name(done.stdout)["dashboard login"]
    assert done.returncode == 0, done.stdout
    assert "https://issuewright.example.com/dashboard/login/callback" in line
    assert "operators: ops, root" in line and "s3cr3t-client" not in done.stdout
    assert half.returncode != 0
    assert "CLIENT_SECRET is not set" in lines_by_name(half.stdout)["dashboard login"]


def test_json_lists_every_check_with_the_version(
    workdir: Path, good: dict[str, str], app_private_key: str
) -> None:
    done = run(["check", "--json"], workdir, clean_env(**good))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["version"]
    assert all(set(c) == {"name", "ok", "detail", "hint"} for c in report["checks"])
    assert {c["name"] for c in report["checks"]} >= {"github app", "database", "llm default"}
    assert_no_secret(done, app_private_key)


@pytest.mark.parametrize("wrong", ["key", "app id"])
def test_a_key_that_is_not_the_apps_fails_the_github_line(
    workdir: Path, good: dict[str, str], sim: GitHubSimulator, wrong: str
) -> None:
    if wrong == "key":
        good["PRIVATE_KEY"] = new_app_private_key()  # parses, but GitHub has another one
    else:
        good["APP_ID"] = str(sim.app.id + 1)
    done = run(["check"], workdir, clean_env(**good))
    assert done.returncode == 1, done.stdout + done.stderr
    found = lines_by_name(done.stdout)
    assert found["github app"].startswith("FAIL ")
    assert "refused the App's token (401" in found["github app"]
    assert "check APP_ID, or generate a new key" in found["github app"]
    assert found["private key"].startswith("ok ")  # it parses; it is the wrong one
    assert done.stdout.splitlines()[-1] == f"1 of {len(found)} checks failed"
    assert_no_secret(done, good["PRIVATE_KEY"])


def test_unreachable_github_and_llm_endpoint_and_an_unmigrated_database(
    workdir: Path, good: dict[str, str], tmp_path: Path, app_private_key: str
) -> None:
    port = unused_port()
    good["LLM_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    good["GITHUB_API_URL"] = f"http://127.0.0.1:{port}"
    never = tmp_path / "never.db"
    good["DATABASE_URL"] = f"sqlite+aiosqlite:///{never}"
    done = run(["check"], workdir, clean_env(**good))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr and done.stderr == ""
    found = lines_by_name(done.stdout)
    assert found["llm default"].startswith("FAIL ")
    assert f"127.0.0.1:{port}" in found["llm default"]
    assert "-> check LLM_BASE_URL and that the server is up" in found["llm default"]
    assert found["database"].startswith("FAIL ")
    assert f"no database file at {never}" in found["database"]
    assert "-> run `issuewright db upgrade`" in found["database"]
    assert not never.exists()  # inspecting never creates a database
    github = found["github app"]
    assert github.startswith("FAIL ") and f"cannot reach http://127.0.0.1:{port} (" in github
    assert "-> check GITHUB_API_URL, the network" in found["github app"]
    assert_no_secret(done, app_private_key)


def test_a_database_behind_the_code_and_one_that_does_not_answer(
    workdir: Path, good: dict[str, str], tmp_path: Path
) -> None:
    from alembic import command

    old = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(old), "0001")
    done = run(["check"], workdir, clean_env(**{**good, "DATABASE_URL": old}))
    database = lines_by_name(done.stdout)["database"]
    assert done.returncode == 1 and database.startswith("FAIL ")
    assert "is at 0001, the code needs" in database and "issuewright db upgrade" in database

    down = f"postgresql://iw:pg-pass-4711@127.0.0.1:{unused_port()}/iw"
    done = run(["check"], workdir, clean_env(**{**good, "DATABASE_URL": down}))
    database = lines_by_name(done.stdout)["database"]
    assert done.returncode == 1 and database.startswith("FAIL ")
    assert "cannot use postgresql://iw:***@127.0.0.1" in database
    assert "check DATABASE_URL" in database
    assert "pg-pass-4711" not in done.stdout + done.stderr


def test_an_unpriced_model_names_llm_pricing(
    workdir: Path, good: dict[str, str], llm: RecordingServer
) -> None:
    llm.answer = models_list("qwen2.5-coder:7b")  # a local model: no list price
    good["LLM_MODEL"] = "qwen2.5-coder:7b"
    done = run(["check"], workdir, clean_env(**good))
    assert done.returncode == 1
    found = lines_by_name(done.stdout)
    assert found["llm default"].startswith("ok ")  # it answers...
    prices = found["llm default prices"]  # ...but the app would refuse to call the model
    assert prices.startswith("FAIL ") and "no price for qwen2.5-coder:7b" in prices
    assert "-> add LLM_PRICING=qwen2.5-coder:7b:IN:OUT" in prices

    good["LLM_PRICING"] = "qwen2.5-coder:7b:0:0"
    done = run(["check"], workdir, clean_env(**good))
    assert done.returncode == 0, done.stdout


def test_machine_checks_data_dir_formatter_and_git(
    workdir: Path, good: dict[str, str], tmp_path: Path
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder\n")
    fake = tmp_path / "oldgit"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\necho 'git version 2.30.1'\n")
    (fake / "git").chmod(0o755)
    good.update(DATA_DIR=str(taken), FORMATTERS="fmt=no-such-formatter-x --fix")
    env = clean_env(**good)
    env["PATH"] = f"{fake}:{env['PATH']}"
    done = run(["check"], workdir, env)
    assert done.returncode == 1
    found = lines_by_name(done.stdout)
    assert found["data dir"].startswith("FAIL ") and f"{taken} is a file" in found["data dir"]
    assert "-> point DATA_DIR at a folder" in found["data dir"]
    assert found["formatter fmt"].startswith("FAIL ")
    assert "'no-such-formatter-x' is not on the server's PATH" in found["formatter fmt"]
    assert found["git"].startswith("FAIL ") and "git 2.30.1 is older than 2.35" in found["git"]


def test_settings_that_cannot_be_read_are_one_failed_line(workdir: Path) -> None:
    done = run(["check"], workdir, clean_env(PRIVATE_KEY="notapem", APP_ID="1"))
    assert done.returncode == 1 and done.stderr == ""
    (settings, summary) = done.stdout.splitlines()
    assert settings.startswith("FAIL settings") and "PRIVATE_KEY is not in PEM form" in settings
    assert summary == "1 of 1 checks failed"
    assert list(workdir.iterdir()) == []


def test_a_terminal_sees_check_marks(workdir: Path, good: dict[str, str]) -> None:
    good["WEBHOOK_SECRET"] = ""
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "check"],
        cwd=workdir,
        env=clean_env(**good),
        stdout=secondary,
    ) as proc:
        os.close(secondary)
        output = b""
        while True:  # read as it comes, so a full terminal buffer never blocks the command
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the command exited and closed its end
                break
            if not chunk:
                break
            output += chunk
        os.close(primary)
    assert proc.returncode == 1
    text = output.decode()
    assert "✓ " in text and "✗    webhook secret" in text
    assert "→ set WEBHOOK_SECRET" in text


# ---------------------------------------------------------------- refusing to start


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"PRIVATE_KEY": "notapem"}, "PRIVATE_KEY is not in PEM form"),
        (
            {
                "PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
            },
            "PRIVATE_KEY does not parse as a private key",
        ),
        ({"PRIVATE_KEY_PATH": "/nonexistent/app.pem"}, "PRIVATE_KEY_PATH '/nonexistent/app.pem'"),
        ({"LLM_PROVIDER": "gemini"}, "LLM_PROVIDER must be one of openai, anthropic"),
        (
            {
                "LLM_ENDPOINTS": "g",
                "LLM_ENDPOINT_G_PROVIDER": "gemini",
                "LLM_ENDPOINT_G_MODEL": "m",
            },
            "LLM_ENDPOINT_G_PROVIDER must be one of openai, anthropic",
        ),
    ],
)
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start(
    workdir: Path, command: str, settings: dict[str, str], expected: str
) -> None:
    done = run([command], workdir, clean_env(APP_ID="1", **settings))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"issuewright: error: {expected}"), line
    assert "MIIEow" not in line
    assert list(workdir.iterdir()) == []  # refused before a database was created
