"""`issuewright check`: every setting tried for real, one `Check` each, never an exception.

The App's key against GitHub (`GET /app` signed with the App's JWT), the webhook secret,
PUBLIC_URL, the database and its migrations (without ever creating a database), the LLM
endpoints and their prices (`check_llm.py`), the formatters' commands, git's version and
DATA_DIR. Network checks run at once, each bounded by NETWORK_TIMEOUT; what they report is
scrubbed of every secret the settings hold.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable
from pathlib import Path

from githubkit.cache import MemCacheStrategy

from bot.core.app_key import private_key_problem
from bot.core.checkup import NETWORK_TIMEOUT, Check, public_url_problem
from bot.git.cmd import MIN_GIT_VERSION, GitError, git_version
from bot.github import GitHubError, call, close_app_github, make_app_github
from bot.logs import scrub
from bot.ops.check_llm import check_endpoint, check_llm
from bot.settings import Settings
from bot.store.db import make_engine, redact_url
from bot.store.migrate import current_revision, head_revision, sqlite_file_missing

UPGRADE = "run `issuewright db upgrade` (`issuewright serve` also does it at start)"


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order they are shown; the slow ones run concurrently."""
    slow = [("github app", check_github_app(settings)), ("database", check_database(settings))]
    slow += [(f"llm {e.name}", check_endpoint(settings, e)) for e in settings.policy.endpoints]
    found = await asyncio.gather(*(_guarded(settings, name, job) for name, job in slow))
    github, database, endpoints = found[0], found[1], found[2:]
    checks = [check_private_key(settings), github, check_webhook_secret(settings)]
    checks += [check_public_url(settings), check_dashboard_login(settings), database]
    checks += check_llm(settings, endpoints)
    checks += [*check_formatters(settings), check_git(), check_data_dir(settings.data_dir)]
    return checks


async def _guarded(settings: Settings, name: str, job: Awaitable[Check]) -> Check:
    try:
        return await job
    except Exception as exc:  # a check that breaks is a failed line, never a traceback
        detail = f"could not be checked ({_said(settings, exc)})"
        return Check(name, False, detail, "run `issuewright check` again; report it if it stays")


def _said(settings: Settings, exc: BaseException) -> str:
    """An exception as one short line without secrets (drivers and httpx may quote URLs)."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__
    return scrub(text, settings.secrets())


# ---------------------------------------------------------------- GitHub


def _said_by(settings: Settings, exc: GitHubError) -> str:
    return scrub(" ".join(exc.message.split())[:120], settings.secrets())


def check_private_key(settings: Settings) -> Check:
    if not settings.private_key:
        return Check(
            "private key",
            False,
            "not set",
            "set PRIVATE_KEY (or PRIVATE_KEY_PATH) to the App's .pem, or open /setup on the "
            "running server to register the App",
        )
    problem = private_key_problem(settings.private_key)
    if problem:
        return Check("private key", False, f"the key {problem}", "fix PRIVATE_KEY")
    return Check("private key", True, "an RSA private key")


async def check_github_app(settings: Settings) -> Check:
    """`GET /app` with the App's JWT: answers only when the key is APP_ID's."""
    name, api = "github app", settings.github_api_url
    if not settings.app_id or not settings.private_key:
        return Check(name, False, "not checked: APP_ID and a private key are needed", _SET_APP)
    if private_key_problem(settings.private_key):
        return Check(name, False, "not checked: the private key does not parse", "fix PRIVATE_KEY")
    # A cache of its own: githubkit's process-wide one could hold a JWT made with another key.
    gh = make_app_github(settings, cache_strategy=MemCacheStrategy())
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT):
            app = await call(lambda: gh.rest.apps.async_get_authenticated())
    except GitHubError as exc:
        if exc.status in (401, 403, 404):
            return Check(
                name,
                False,
                f"{api} refused the App's token ({exc.status}: {_said_by(settings, exc)})",
                f"the private key is not the key of App {settings.app_id}: check APP_ID, or "
                "generate a new key in the App's settings (and check this machine's clock)",
            )
        return Check(name, False, f"{api} answered {exc.status}", "check GITHUB_API_URL")
    except TimeoutError:
        return Check(name, False, f"no answer from {api} in {NETWORK_TIMEOUT:g} s", _REACH_GITHUB)
    except Exception as exc:  # githubkit wraps httpx's connection errors in its own
        cause = getattr(exc, "exc", exc)
        return Check(name, False, f"cannot reach {api} ({type(cause).__name__})", _REACH_GITHUB)
    finally:
        await close_app_github(gh)
    slug = str(app.get("slug") or "") if isinstance(app, dict) else ""
    if slug and slug != settings.app_slug:
        return Check(
            name,
            False,
            f"GitHub knows App {settings.app_id} as {slug!r}, APP_SLUG is {settings.app_slug!r}",
            f"set APP_SLUG={slug}, so the app knows its own comments and @{slug} mentions",
        )
    return Check(name, True, f"App {slug or settings.app_id} (id {settings.app_id}) at {api}")


_SET_APP = "set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), or open /setup on the server"
_REACH_GITHUB = "check GITHUB_API_URL, the network, and HTTPS_PROXY if you need a proxy"


def check_webhook_secret(settings: Settings) -> Check:
    if settings.webhook_secret:
        return Check("webhook secret", True, "set")
    return Check(
        "webhook secret",
        False,
        "not set: POST /webhooks/github answers 503",
        "set WEBHOOK_SECRET to the secret in the App's webhook settings",
    )


def check_public_url(settings: Settings) -> Check:
    if not settings.public_url:
        return Check("public url", True, "not set: /setup uses the address each request came to")
    problem = public_url_problem(settings.public_url)
    if problem:
        return Check(
            "public url",
            False,
            f"{settings.public_url!r} {problem}",
            "set PUBLIC_URL to the address GitHub reaches this server at, like "
            "https://issuewright.example.com",
        )
    return Check("public url", True, settings.public_url)


def check_dashboard_login(settings: Settings) -> Check:
    """CLIENT_ID and CLIENT_SECRET (both or neither), the callback URL GitHub must hold, and
    who the operators are. Read only: GitHub is first asked when someone logs in."""
    name = "dashboard login"
    if not settings.client_id and not settings.client_secret:
        return Check(name, True, "not set: /dashboard stays closed and says what to configure")
    if not settings.client_id or not settings.client_secret:
        missing = "CLIENT_SECRET" if settings.client_id else "CLIENT_ID"
        return Check(
            name,
            False,
            f"{missing} is not set: nobody can log in to /dashboard",
            "set CLIENT_ID and CLIENT_SECRET from the App's settings on GitHub (Client secrets)",
        )
    callback = f"{(settings.public_url or '<this server>').rstrip('/')}/dashboard/login/callback"
    operators = ", ".join(settings.admin_logins) or "none (ADMIN_LOGINS is empty)"
    return Check(
        name,
        True,
        f"client {settings.client_id}; the App's Callback URL must be {callback}; "
        f"operators: {operators}",
    )


# ---------------------------------------------------------------- database


async def check_database(settings: Settings) -> Check:
    """Answers and is at the migrations' head; a missing SQLite file is reported, not made."""
    where = redact_url(settings.database_url)
    try:
        missing = sqlite_file_missing(settings.database_url)
    except Exception as exc:  # an unparseable URL
        return Check("database", False, _said(settings, exc), "check DATABASE_URL")
    if missing is not None:
        return Check("database", False, f"no database file at {missing.absolute()}", UPGRADE)
    engine = make_engine(settings.database_url)
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT):
            current = await current_revision(engine)
    except TimeoutError:
        return Check("database", False, f"no answer from {where} in {NETWORK_TIMEOUT:g} s", _DB)
    except Exception as exc:
        return Check("database", False, f"cannot use {where} ({_said(settings, exc)})", _DB)
    finally:
        await engine.dispose()
    head = head_revision()
    if current is None:
        return Check("database", False, f"{where} answers but has no Issuewright tables", UPGRADE)
    if current != head:
        return Check("database", False, f"{where} is at {current}, the code needs {head}", UPGRADE)
    return Check("database", True, f"{where} at revision {head}")


_DB = "check DATABASE_URL and that the database server is running"


# ---------------------------------------------------------------- this machine


def check_formatters(settings: Settings) -> list[Check]:
    checks = []
    for name, argv in settings.formatters:
        found = shutil.which(argv[0], path=settings.formatter_path)
        if found:
            checks.append(Check(f"formatter {name}", True, found))
        else:
            checks.append(
                Check(
                    f"formatter {name}",
                    False,
                    f"{argv[0]!r} is not on the server's PATH",
                    f"install {argv[0]}, or fix FORMATTERS (PATH is {settings.formatter_path})",
                )
            )
    return checks


def check_git() -> Check:
    need = ".".join(map(str, MIN_GIT_VERSION))
    try:
        version = git_version()
    except GitError as exc:
        return Check("git", False, str(exc), f"install git {need} or newer")
    shown = ".".join(map(str, version))
    if version < MIN_GIT_VERSION:
        detail = f"git {shown} is older than {need} (sparse checkouts need it)"
        return Check("git", False, detail, f"install git {need} or newer")
    return Check("git", True, f"git {shown}")


def check_data_dir(data_dir: Path) -> Check:
    """DATA_DIR can take files: a file is written in it (or a folder in its nearest existing
    parent, when it does not exist yet) and removed again, so nothing is left behind."""
    name, hint = "data dir", "point DATA_DIR at a folder this user can write"
    path = data_dir.expanduser()
    try:
        existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
        if not existing.is_dir():
            return Check(name, False, f"{existing} is a file, not a folder", hint)
        if existing == path:
            tempfile.TemporaryFile(dir=path).close()
        else:
            tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as exc:  # no permission to look or to write, a read-only file system
        return Check(name, False, f"cannot write in {path} ({exc.strerror or exc})", hint)
    absolute = os.path.abspath(path)
    if existing != path:
        return Check(name, True, f"{absolute} (created when first needed)")
    return Check(name, True, absolute)
