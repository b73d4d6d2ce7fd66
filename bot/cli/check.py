"""`issuewright check`: one line per setting, ✓ or ✗ and what to do; exit 0 when all pass, 1
when any fails. `--json` gives the same lines as a list (`name`, `ok`, `detail`, `hint`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from bot.cli.output import print_json
from bot.core.checkup import Check
from bot.core.env_values import SettingsError

DESCRIPTION = (
    "Check the configuration end to end: the private key against GitHub (GET /app as the "
    "App), the webhook secret, PUBLIC_URL, the database and its migrations, each LLM endpoint "
    "and the prices of its models, the formatters, git and DATA_DIR. Nothing is written (the "
    "database is never created); an endpoint without a models list costs one output token."
)


def gather() -> list[Check]:
    """The settings line, then every check (none when the settings cannot be read at all)."""
    from bot.ops.check import run_checks
    from bot.settings import Settings

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return [Check("settings", False, str(exc), "fix it, then run `issuewright check` again")]
    source = "environment and " + (
        str(settings.env_file) if settings.env_file.is_file() else "no .env file"
    )
    return [Check("settings", True, f"read from the {source}"), *asyncio.run(run_checks(settings))]


def marks(stream: TextIO) -> tuple[str, str]:
    """✓ and ✗ on a terminal that can show them; `ok` and `FAIL` otherwise (a pipe, a log, a
    terminal whose encoding has no ✓), so the output greps and never fails to encode."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "✓✗→".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL"
    return ("✓", "✗") if stream.isatty() else ("ok", "FAIL")


def render(checks: list[Check], stream: TextIO) -> str:
    good, bad = marks(stream)
    arrow = "→" if good == "✓" else "->"
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        hint = f"  {arrow} {c.hint}" if c.hint and not c.ok else ""
        lines.append(f"{good if c.ok else bad:<4} {c.name:<{width}}  {c.detail}{hint}")
    failed = sum(not c.ok for c in checks)
    lines.append(
        f"{failed} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed"
    )
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    checks = gather()
    if args.json:
        print_json({"ok": all(c.ok for c in checks), "checks": [c.as_json() for c in checks]})
    else:
        print(render(checks, sys.stdout))
    return 0 if all(c.ok for c in checks) else 1


def register_check(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check every setting end to end (exit 1 when any check fails)",
        description=DESCRIPTION,
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"version", "ok", "checks": [{name, ok, detail, hint}]} instead of lines',
    )
    p.set_defaults(func=cmd_check)
