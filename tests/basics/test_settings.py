"""`Settings.from_env`: environment over `.env`, keys, validation, and secrets kept out of
messages and repr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.env_values import SettingsError
from bot.settings import DEFAULT_DATABASE_URL, Settings
from tests.ghsim.fixtures import new_app_private_key

ROOT = Path(__file__).resolve().parents[2]
PEM = new_app_private_key()  # a real key: one that does not parse is refused (tested below)
SECRETS = {
    "WEBHOOK_SECRET": "whsec-0a1b2c3d4e5f",
    "PRIVATE_KEY": PEM,
    "CLIENT_SECRET": "client-secret-9z8y7x",
    "LLM_API_KEY": "sk-test-abcdefghijklmnopqrstuv",
}


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def test_defaults_from_an_empty_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "absent.env")
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert (settings.host, settings.port) == ("127.0.0.1", 3000)
    assert (settings.log_level, settings.log_format) == ("INFO", "text")
    assert settings.github_api_url == "https://api.github.com"
    assert not settings.has_app_credentials


def test_explicit_environ_ignores_the_process_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("APP_ID", "999")
    monkeypatch.setenv("PORT", "not-a-port")  # would fail if it were read
    settings = Settings.from_env({}, env_file=tmp_path / "absent.env")
    assert settings.app_id is None and settings.port == 3000


def test_process_environment_wins_over_dotenv(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path,
        "APP_ID=111\nPORT=4000\nWEBHOOK_SECRET=from-file-secret\nLOG_FORMAT=json\n"
        'GITHUB_API_URL="https://ghe.example.com/api/v3/"\n',
    )
    settings = Settings.from_env({"APP_ID": "222", "PORT": "5000"}, env_file=env_file)
    assert settings.app_id == "222"  # environment
    assert settings.port == 5000  # environment
    assert settings.webhook_secret == "from-file-secret"  # only in .env
    assert settings.log_format == "json"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"  # trailing / dropped
    assert settings.env_file == env_file


def test_env_file_named_by_env_file_variable(tmp_path: Path) -> None:
    other = tmp_path / "deploy.env"
    other.write_text("APP_ID=333\n")
    assert Settings.from_env({"ENV_FILE": str(other)}).app_id == "333"


def test_private_key_path_is_read(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    settings = Settings.from_env({"APP_ID": "1", "PRIVATE_KEY_PATH": str(key)}, env_file=key)
    assert settings.private_key == PEM
    assert settings.has_app_credentials


def test_private_key_with_escaped_newlines(tmp_path: Path) -> None:
    one_line = PEM.replace("\n", "\\n")
    settings = Settings.from_env({"PRIVATE_KEY": one_line}, env_file=tmp_path / "absent.env")
    assert settings.private_key == PEM


def test_private_key_wins_over_its_path(tmp_path: Path) -> None:
    env = {"PRIVATE_KEY": PEM, "PRIVATE_KEY_PATH": str(tmp_path / "missing.pem")}
    assert Settings.from_env(env, env_file=tmp_path / "absent.env").private_key == PEM


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("PORT", "30\n00"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
        ("WORKER_CONCURRENCY", "-1"),
        ("RUN_WORKER", "maybe"),
        ("SHUTDOWN_GRACE_SECONDS", "inf"),
        ("PRIVATE_KEY_PATH", "/nonexistent/app.pem"),
    ],
)
def test_bad_values_give_one_line_naming_the_setting(tmp_path: Path, name: str, value: str) -> None:
    env = {**SECRETS, name: value}
    if name == "PRIVATE_KEY_PATH":
        del env["PRIVATE_KEY"]
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env, env_file=tmp_path / "absent.env")
    message = str(raised.value)
    assert name in message
    assert "\n" not in message
    for secret in SECRETS.values():
        assert secret.strip() not in message
        assert "PRIVATE KEY" not in message


def test_a_key_pasted_into_the_path_variable_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PRIVATE_KEY_PATH": PEM}, env_file=tmp_path / "absent.env")
    message = str(raised.value)
    assert "PRIVATE_KEY_PATH" in message and "MIIE" not in message and "\n" not in message


@pytest.mark.parametrize(
    "text",
    [
        "notapem",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1c2\nq8Zk3Y\n-----END RSA PRIVATE KEY-----\n",
        PEM[: len(PEM) // 2],  # cut short when pasted
    ],
)
def test_a_private_key_that_does_not_parse_is_refused(tmp_path: Path, text: str) -> None:
    absent = tmp_path / "absent.env"
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"APP_ID": "1", "PRIVATE_KEY": text}, env_file=absent)
    message = str(raised.value)
    assert message.startswith("PRIVATE_KEY ") and "\n" not in message
    assert "MIIE" not in message and "notapem" not in message
    key_file = tmp_path / "app.pem"
    key_file.write_text(text)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PRIVATE_KEY_PATH": str(key_file)}, env_file=absent)
    assert f"the file PRIVATE_KEY_PATH names ({str(key_file)!r})" in str(raised.value)
    assert "MIIE" not in str(raised.value)


def test_a_key_that_does_not_parse_is_not_counted_as_configured() -> None:
    # Settings made in code (tests, tools) are not validated by from_env: `GET /` and the
    # startup warning still must not call such an app configured.
    settings = Settings(app_id="1", private_key="notapem", webhook_secret="s3cret!")
    assert settings.missing == ["PRIVATE_KEY or PRIVATE_KEY_PATH"]
    assert Settings(app_id="1", private_key=PEM, webhook_secret="s3cret!").missing == []


def test_llm_pricing_takes_model_names_with_a_colon(tmp_path: Path) -> None:
    env = {"LLM_PRICING": "llama3.1:8b:0:0, gpt-4o-mini:0.2:0.8"}
    settings = Settings.from_env(env, env_file=tmp_path / "absent.env")
    assert settings.llm_pricing_overrides == (("llama3.1:8b", 0.0, 0.0), ("gpt-4o-mini", 0.2, 0.8))


def test_a_long_bad_value_is_cut_in_the_message(tmp_path: Path) -> None:
    token = "ghs_" + "x" * 36  # a token put in the wrong variable
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"PORT": token}, env_file=tmp_path / "absent.env")
    assert token not in str(raised.value) and "PORT" in str(raised.value)


def test_repr_never_shows_secrets(tmp_path: Path) -> None:
    env = {
        **SECRETS,
        "APP_ID": "42",
        "DATABASE_URL": "postgresql+asyncpg://bot:db-pass-4711@db.internal:5432/iw",
        "LLM_EXTRA_HEADERS": "X-Gateway-Key: gw-key-31337, X-Team: red",
    }
    settings = Settings.from_env(env, env_file=tmp_path / "absent.env")
    shown = repr(settings) + str(settings)
    for secret in [*SECRETS.values(), "db-pass-4711", "gw-key-31337"]:
        assert secret not in shown
    assert "MIIE" not in shown
    # What helps debugging stays visible.
    assert "app_id='42'" in shown and "db.internal" in shown and "X-Gateway-Key" in shown
    # ...and everything hidden is still handed to log scrubbing.
    assert {"db-pass-4711", "gw-key-31337", *SECRETS.values()} <= set(settings.secrets())


def test_missing_lists_what_to_configure(tmp_path: Path) -> None:
    absent = tmp_path / "absent.env"
    assert Settings.from_env({}, env_file=absent).missing == [
        "APP_ID",
        "PRIVATE_KEY or PRIVATE_KEY_PATH",
        "WEBHOOK_SECRET",
    ]
    partial = Settings.from_env({"APP_ID": "1", "WEBHOOK_SECRET": "s3cret!"}, env_file=absent)
    assert partial.missing == ["PRIVATE_KEY or PRIVATE_KEY_PATH"]
    full = Settings.from_env({"APP_ID": "1", **SECRETS}, env_file=absent)
    assert full.missing == [] and full.has_app_credentials


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "absent.env")
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
    assert settings.with_(port=8080).port == 8080 and settings.port == 3000


def test_nothing_is_read_at_import_time(tmp_path: Path) -> None:
    # Bad values in both the environment and a .env in the working directory: importing the
    # settings, the app and the CLI must not fail (nothing is read until `from_env`).
    write_env(tmp_path, "PORT=bogus\n")
    env = {**os.environ, "PORT": "not-a-port"}
    code = (
        "import bot.settings, bot.app, bot.cli.main, bot.logs\n"
        "try:\n"
        "    bot.settings.Settings.from_env()\n"
        "except bot.settings.SettingsError as exc:\n"
        "    print('read later:', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "read later: PORT must be a whole number, got 'not-a-port'\n"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ISSUEWRIGHT_CACHE_DIR": "/srv/iw-cache", "XDG_CACHE_HOME": "/x"}, "/srv/iw-cache"),
        ({"XDG_CACHE_HOME": "/var/cache/me", "HOME": "/home/me"}, "/var/cache/me/issuewright"),
        # The XDG specification: a relative XDG_CACHE_HOME is invalid and ignored.
        ({"XDG_CACHE_HOME": "rel", "HOME": "/home/me"}, "/home/me/.cache/issuewright"),
        ({"HOME": "/home/me"}, "/home/me/.cache/issuewright"),
    ],
)
def test_the_command_lines_cache_folder(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    settings = Settings.from_env(env, env_file=tmp_path / "absent.env")
    assert settings.cache_dir == Path(expected)


def test_admin_logins_are_a_lowercased_comma_list(tmp_path: Path) -> None:
    env = {"ADMIN_LOGINS": " Octocat, ops-person ,,", "CLIENT_SECRET": "cs-123"}
    settings = Settings.from_env(env, env_file=tmp_path / "none")
    assert settings.admin_logins == ("octocat", "ops-person")
    assert Settings.from_env({}, env_file=tmp_path / "none").admin_logins == ()
    assert "cs-123" in settings.secrets() and "cs-123" not in repr(settings)
