"""How every command speaks: when it fails, one line on stderr, `issuewright: error: …` (the
form argparse uses for a wrong argument), and exit status 2; with `--json`, one JSON object
with the package `version` and every time in ISO 8601 UTC; the settings every command loads."""

from __future__ import annotations

import dataclasses
import enum
import importlib.metadata
import json
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from bot.settings import Settings

PROG = "issuewright"
AS_JSON = "print JSON (times in ISO 8601 UTC, with the package version) instead of text"


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


class CliError(Exception):
    """A user-fixable problem; printed as one line, exit status 2."""


def load_settings() -> Settings:
    return Settings.from_env()


def database_error(exc: BaseException, settings: Settings) -> CliError:
    from bot.logs import scrub
    from bot.store.db import redact_url

    # Drivers may quote the URL they were given (SQLAlchemy does for one it cannot parse):
    # the detail is scrubbed of the password like every log line.
    lines = str(exc).strip().splitlines()
    detail = scrub(lines[0][:200], settings.secrets()) if lines else "no detail"
    return CliError(
        f"cannot use the database at {redact_url(settings.database_url)} "
        f"({type(exc).__name__}: {detail}); check DATABASE_URL and that the server is running"
    )


def utc(value: datetime) -> datetime:
    """A stored time in UTC (SQLite gives it back without a zone; it was written in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def version() -> str:
    try:
        return importlib.metadata.version("issuewright")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


def iso_utc(value: datetime) -> str:
    """`2024-05-01T12:00:00Z`: ISO 8601, always UTC, the zone always written."""
    return utc(value).isoformat().replace("+00:00", "Z")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


def json_text(doc: Mapping[str, Any]) -> str:
    """The one JSON encoder of the command line: `{"version": …, **doc}`."""
    return json.dumps({"version": version(), **doc}, indent=2, default=_encode)


def print_json(doc: Mapping[str, Any]) -> None:
    print(json_text(doc))
