"""Apply and inspect Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema, on the given engine's connection."""

    def _upgrade(connection: object) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy a table and drop the old one, which other tables' rows
            # reference (the copy keeps every id). SQLite ignores this pragma inside a
            # transaction, so it is set before the migrations' transaction begins.
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Several `serve` processes may start at once: one migrates, the others wait.
                    await connection.execute(text("SELECT pg_advisory_xact_lock(74657571)"))
                await connection.run_sync(_upgrade)
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(connection: object) -> str | None:
        # Configuring a context logs two INFO lines ("Context impl …"): a readiness probe
        # every few seconds must not fill the log with them.
        alembic_log = logging.getLogger("alembic.runtime.migration")
        level = alembic_log.level
        alembic_log.setLevel(logging.WARNING)
        try:
            context = MigrationContext.configure(connection)  # type: ignore[arg-type]
        finally:
            alembic_log.setLevel(level)
        return context.get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def upgrade_sync(url: str) -> None:
    from bot.store.db import make_engine

    async def _run() -> None:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())


class SchemaMissing(RuntimeError):
    """An inspection found no Issuewright database where DATABASE_URL points; the message says
    to run `issuewright db upgrade` (inspections never create one)."""


def sqlite_file_missing(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist yet (connecting would create it)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


async def require_schema(engine: AsyncEngine) -> None:
    """Raise SchemaMissing unless the database holds Issuewright's tables (any revision)."""
    if await current_revision(engine) is None:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaMissing(
            f"the database at {where} has no Issuewright tables: run `issuewright db upgrade` "
            "(or point DATABASE_URL at the server's database)"
        )
