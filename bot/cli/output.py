"""How every command speaks when it fails: one line on stderr, `issuewright: error: …` (the
form argparse uses for a wrong argument), and exit status 2; the settings every command loads."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bot.settings import Settings

PROG = "issuewright"


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
