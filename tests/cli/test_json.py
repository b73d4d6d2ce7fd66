"""`--json` on every command that prints data: one object with the package version, every
time in ISO 8601 UTC (`2024-05-01T12:00:00Z`), never Python's `str()` of a datetime."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import build_parser, main
from bot.store.migrate import upgrade_sync
from tests.cli.test_apply_cli import ANSWER, make_checkout
from tests.cli.test_help import commands
from tests.cli.test_server_cli import store_dead_delivery
from tests.cli.test_tasks_cli import store as store_tasks

LOOKS_LIKE_A_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# Commands that run (a server, a worker) rather than print data.
NO_DATA = {"serve", "worker"}


def strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)
    elif isinstance(value, str):
        yield key, value


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A migrated database with a dead delivery and its job, a checkout, an issue, an answer."""
    for name in list(os.environ):
        if name.startswith(("LLM_", "GITHUB_")) or name in {"ENV_FILE", "APP_ID", "PUBLIC_URL"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'iw.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    upgrade_sync(url)
    asyncio.run(store_dead_delivery(url, "d-1"))
    asyncio.run(store_tasks(url))  # the tasks `tasks` and `task show` print
    repo = make_checkout(tmp_path / "repo", None)
    (tmp_path / "issue.md").write_text("docs/a.md says hi; it should say ho\n")
    (tmp_path / "answer.txt").write_text(ANSWER)
    issue, answer = str(tmp_path / "issue.md"), str(tmp_path / "answer.txt")
    return {
        "db upgrade": ["db", "upgrade"],
        "deliveries": ["deliveries"],
        "jobs": ["jobs", "--status", "dead"],
        "stats": ["stats", "--since", "7d"],
        "cleanup": ["cleanup", "--older-than", "1d", "--dry-run"],
        "plan": ["plan", "--issue-file", issue, "--repo", str(repo)],
        "run": ["run", "--issue-file", issue, "--repo", str(repo), "--dry-run"],
        "apply": ["apply", "--repo", str(repo), "--answer", answer, "--dry-run"],
        "tasks": ["tasks"],
        "task show": ["task", "show", "octo-org/calc#7", "--prompt", "--answer", "--diff"],
        "context rank": ["context", "rank", "--repo", str(repo), "--query-file", issue],
        "prompts check": ["prompts", "check"],
        "check": ["check"],  # exit 1: nothing is configured
        "replay": ["replay", "d-1"],  # last: it changes the job list
    }


def test_every_command_prints_json_with_version_and_utc_times(
    setup: dict[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    version = importlib.metadata.version("issuewright")
    times: dict[str, set[str]] = {}
    for name, argv in setup.items():
        expected = 1 if name == "check" else 0
        assert main([*argv, "--json"]) == expected, (name, capsys.readouterr().err)
        out = capsys.readouterr().out
        doc = json.loads(out)
        assert isinstance(doc, dict) and doc["version"] == version, name
        for key, text in strings(doc):
            if LOOKS_LIKE_A_TIME.match(text):
                assert ISO_UTC.fullmatch(text), (name, key, text)
                times.setdefault(name, set()).add(key)
    # The times each command has are there (so the check above saw them).
    assert times == {
        "deliveries": {"received_at"},
        "jobs": {"created_at", "run_after"},
        "stats": {"since", "generated_at"},
        "cleanup": {"cutoff"},
        "tasks": {"created_at", "updated_at"},
        "task show": {"created_at", "updated_at", "at", "started_at"},
    }


def test_every_command_that_prints_data_has_json(setup: dict[str, list[str]]) -> None:
    with_json, without = set(), set()
    for path, parser, _ in commands(build_parser()):
        if parser._subparsers is not None:  # a group (db, context, prompts), not a command
            continue
        options = {o for a in parser._actions for o in a.option_strings}
        (with_json if "--json" in options else without).add(" ".join(path))
    assert without == NO_DATA
    assert with_json == set(setup)  # and the test above runs each of them
