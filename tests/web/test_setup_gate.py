"""Who may register the GitHub App through `/setup`, through the real app: only with the setup
code the server printed at start, only from the browser that started the registration, only
until credentials are written, and replacing credentials takes the code again."""

from __future__ import annotations

import logging
import re
import stat
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from bot.web.setup import SetupGate, StateStore
from bot.web.setup_gate import COOKIE, new_setup_code
from tests.web.setup_helpers import (
    CODE,
    EXAMPLE,
    Forms,
    GitHub,
    client_for,
    settings_for,
    start,
    state_of,
)

HAND_WRITTEN = "# mine\nAPP_ID=7\nPRIVATE_KEY_PATH=old.pem\nWEBHOOK_SECRET=old-hook-secret\n"


def stored_bytes(tmp_path: Path) -> bytes:
    """Everything the process wrote to disk: .env, the database and its journal."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.is_file())


async def test_the_code_is_announced_at_start_and_differs_per_process(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gate = SetupGate(url="https://bot.example.com/setup")  # generated, as the server does
    async with client_for(settings_for(tmp_path, sqlite_url), GitHub(), gate) as client:
        (line,) = [r for r in caplog.records if "setup code" in r.getMessage()]
        assert line.levelno == logging.WARNING
        assert "https://bot.example.com/setup" in line.getMessage()
        printed = re.search(r"setup code ([0-9a-f]{32})\b", line.getMessage())
        assert printed is not None
        form = await start(client, code=printed.group(1))  # the printed code is the one
    assert form["action"].startswith("https://github.com/settings/apps/new?state=")
    assert len({new_setup_code() for _ in range(20)}) == 20


def test_with_warnings_hidden_the_code_still_reaches_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger("bot.web.setup_gate")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        SetupGate(CODE).announce()
    finally:
        logger.setLevel(before)
    assert f"setup code {CODE}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "entered", [None, "", "wrong", CODE[:-1], CODE + "0", "ä" * 32, "x" * 10_000]
)
async def test_no_or_wrong_code_is_refused(
    tmp_path: Path, sqlite_url: str, entered: str | None
) -> None:
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        # In the URL it counts for nothing: query strings end up in logs.
        via_query = await client.get("/setup", params={"setup_code": CODE})
        data = {"org": ""} if entered is None else {"setup_code": entered}
        response = await client.post("/setup", data=data)
    assert response.status_code == 403 and "not the setup code" in response.text
    assert "console" in response.text and "set-cookie" not in response.headers
    (form,) = Forms(response.text).forms  # the code form again, nothing that reaches GitHub
    assert form["action"] == "/setup" and "github.com" not in response.text
    assert CODE not in response.text and CODE not in via_query.text
    assert "github.com" not in via_query.text
    assert github.requests == [] and not (tmp_path / ".env").exists()


async def test_the_code_as_read_off_a_terminal_is_accepted(tmp_path: Path, sqlite_url: str) -> None:
    spaced = " " + " ".join(CODE[i : i + 8] for i in range(0, 32, 8)).upper() + "\n"
    async with client_for(settings_for(tmp_path, sqlite_url), GitHub()) as client:
        form = await start(client, code=spaced)
    assert form["method"] == "post" and "state=" in form["action"]


async def test_the_state_cookie_is_httponly_lax_and_scoped(tmp_path: Path, sqlite_url: str) -> None:
    async with client_for(settings_for(tmp_path, sqlite_url), GitHub()) as client:
        await client.get("/setup")
        response = await client.post("/setup", data={"setup_code": CODE})
    cookie = SimpleCookie(response.headers["set-cookie"])[COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/setup" and int(cookie["max-age"]) == 3600
    assert len(cookie.value) >= 32 and cookie.value not in response.text
    assert CODE not in response.headers["set-cookie"]


@pytest.mark.parametrize("cookie", ["missing", "forged", "another registration's"])
async def test_a_callback_without_this_browsers_cookie_writes_nothing(
    tmp_path: Path, sqlite_url: str, cookie: str
) -> None:
    """GitHub's redirect carrying a good code and state, but in a browser that did not start
    the registration (a link sent to the operator, a state captured elsewhere)."""
    env = tmp_path / ".env"
    env.write_text("# mine\nLLM_MODEL=gpt\n")
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        if cookie == "missing":
            client.cookies.clear()
        elif cookie == "forged":
            client.cookies.set(COOKIE, "A" * 32, domain="bot.example.com")
        else:
            await start(client)  # a newer registration: its cookie replaces the first one's
        response = await client.get(f"/setup/callback?code=c1&state={state}")
        confirmed = await client.post(
            "/setup/callback", data={"code": "c1", "state": state, "setup_code": CODE, "force": "1"}
        )
        # The browser that holds the cookie can still finish: nothing was spent.
        still_open = await client.get("/setup")
    for refused in (response, confirmed):
        assert refused.status_code == 403, refused.text
        assert "not started in this browser" in refused.text and "/setup" in refused.text
    assert still_open.status_code == 200
    assert github.requests == [] and env.read_text() == "# mine\nLLM_MODEL=gpt\n"


async def test_a_forged_state_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        await start(client)
        response = await client.get("/setup/callback?code=c1&state=forged-state-0123456789")
    assert response.status_code == 400 and "unknown or expired state" in response.text
    assert github.requests == [] and not (tmp_path / ".env").exists()


async def test_happy_path_writes_env_0600_and_closes_setup_at_once(
    tmp_path: Path, sqlite_url: str
) -> None:
    github = GitHub()
    env = tmp_path / ".env"
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        done = await client.get(f"/setup/callback?code=c1&state={state}")
        assert done.status_code == 200 and "now closed" in done.text
        assert stat.S_IMODE(env.stat().st_mode) == 0o600
        written = env.read_text()
        # Without a restart: every way in says setup is complete, and how to open it again.
        later = [
            await client.get("/setup"),
            await client.get("/setup?org=octo-org"),
            await client.post("/setup", data={"setup_code": CODE, "force": "1"}),
            await client.get(f"/setup/callback?code=c2&state={state}&force=1"),
            await client.post(
                "/setup/callback",
                data={"code": "c2", "state": state, "setup_code": CODE, "force": "1"},
            ),
        ]
    for response in later:
        assert response.status_code == 410, response.text
        assert response.text.startswith("Setup is complete: GitHub App octoapp (id 1)")
        assert "Restart the server" in response.text and "new setup code" in response.text
        assert "console" in response.text and "set-cookie" not in response.headers
    assert len(github.requests) == 1 and env.read_text() == written
    assert dotenv_values(env)["APP_ID"] == str(EXAMPLE["id"])
    # The code lives in the process only: not in .env, not in the database.
    assert CODE.encode() not in stored_bytes(tmp_path)


async def test_force_on_the_page_needs_the_code(tmp_path: Path, sqlite_url: str) -> None:
    env = tmp_path / ".env"
    env.write_text(HAND_WRITTEN)
    github = GitHub()
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        page = await client.get("/setup?force=1")
        (form,) = Forms(page.text).forms
        assert form["action"] == "/setup" and "APP_ID" in page.text
        assert "old-hook-secret" not in page.text and "old.pem" not in page.text
        without = await client.post("/setup", data={"force": "1"})
        wrong = await client.post("/setup", data={"force": "1", "setup_code": "f" * 32})
        replaced = state_of(await start(client, force=True))
        done = await client.get(f"/setup/callback?code=c1&state={replaced}")
    for refused in (without, wrong):
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert done.status_code == 200 and len(github.requests) == 1
    values = dotenv_values(env)
    assert values["APP_ID"] == str(EXAMPLE["id"]) and "PRIVATE_KEY_PATH" not in values


async def test_credentials_appearing_meanwhile_are_replaced_only_with_the_code_again(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Registration started over nothing; by the time GitHub sends the browser back, another
    process (or a person) has put credentials in .env. `?force=1` on the callback, a replace
    without the code, or with a wrong one, change nothing; the code entered again does."""
    env = tmp_path / ".env"
    github = GitHub()
    github.reply = lambda r: httpx.Response(201, json={**EXAMPLE, "id": 99})
    async with client_for(settings_for(tmp_path, sqlite_url), github) as client:
        state = state_of(await start(client))
        env.write_text(HAND_WRITTEN)
        forced = await client.get(f"/setup/callback?code=c1&state={state}&force=1")
        assert forced.status_code == 409 and "already set" in forced.text
        (confirm,) = Forms(forced.text).forms
        assert (confirm["method"], confirm["action"]) == ("post", "/setup/callback")
        assert confirm["inputs"] == {"force": "1", "code": "c1", "state": state, "setup_code": None}
        assert confirm["types"]["setup_code"] == "password"
        base = {"code": "c1", "state": state, "force": "1"}
        refused = [
            await client.post("/setup/callback", data=base),
            await client.post("/setup/callback", data={**base, "setup_code": "0" * 32}),
            await client.post("/setup/callback", data={**base, "force": "", "setup_code": CODE}),
        ]
        assert [r.status_code for r in refused] == [403, 403, 409]
        assert github.requests == [] and env.read_text() == HAND_WRITTEN
        replaced = await client.post("/setup/callback", data={**base, "setup_code": CODE})
    assert replaced.status_code == 200, replaced.text
    values = dotenv_values(env)
    assert values["APP_ID"] == "99" and "PRIVATE_KEY_PATH" not in values
    assert env.read_text().startswith("# mine\n") and env.read_text().count("APP_ID=") == 1
    assert len(github.requests) == 1


def test_closing_forgets_every_pending_state() -> None:
    gate = SetupGate(CODE, states=StateStore())
    state, _cookie = gate.states.issue(None, False)
    gate.close("GitHub App x (id 1) was registered")
    assert gate.closed and gate.states.get(state) is None
    assert not gate.accepts("") and gate.accepts(CODE)  # the code alone never reopens it
