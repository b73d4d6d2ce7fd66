"""A task as the command line names and prints it: its key (`OWNER/REPO#ISSUE[/N]`, the form
task keys are stored in) and its JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.cli.output import CliError

KEY = re.compile(
    r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(?P<issue>[0-9]+)(?:/(?P<n>[0-9]+))?$"
)
KEY_FORM = "OWNER/REPO#ISSUE or OWNER/REPO#ISSUE/N"


@dataclass(frozen=True)
class TaskKey:
    repository: str
    issue: int
    ordinal: int | None

    def __str__(self) -> str:
        tail = f"/{self.ordinal}" if self.ordinal is not None else ""
        return f"{self.repository}#{self.issue}{tail}"


def parse_key(text: str) -> TaskKey:
    match = KEY.match(text.strip())
    if match is None:
        raise CliError(
            f"{text!r} is not a task key: write {KEY_FORM}, e.g. octo-org/calc#12/1 "
            "(`issuewright tasks` lists them)"
        )
    n = match["n"]
    return TaskKey(match["repo"], int(match["issue"]), int(n) if n is not None else None)


def task_dict(t: Any) -> dict[str, Any]:
    return {
        "key": t.key,
        "repository": t.repository,
        "issue_number": t.issue_number,
        "ordinal": t.ordinal,
        "title": t.title,
        "task_type": t.task_type,
        "state": t.state,
        "branch": t.branch,
        "pr_number": t.pr_number,
        "checks": t.checks,
        "attempts": t.attempts,
        "ci_fix_attempts": t.ci_fix_attempts,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
        "cost_usd": round(t.cost_usd, 6),
        "last_error": t.last_error,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }
