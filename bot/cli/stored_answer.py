"""The answer `issuewright apply --from-attempt ID` replays: the final round of what an app
attempt's record kept (bot/core/attempt_record.py), read from the database."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from bot.cli.inspect import run_on_database
from bot.cli.output import CliError
from bot.settings import Settings

CUT = re.compile(r"\n… cut at [0-9]+ KB$")  # core.record_text.cut_marker's line, at the end
# Attempts whose answer is SEARCH/REPLACE edits (localize and plan calls answer otherwise).
EDIT_KINDS = ("generate", "ci_fix", "review", "retry")


@dataclass(frozen=True)
class StoredAnswer:
    text: str
    rounds: int
    cut: bool


def replayed_answer(attempt_id: int, settings: Settings) -> str:
    """The answer `apply --from-attempt` replays, with a word on stderr when it is not the
    whole of what the model said (a repair round, a cut)."""
    stored = stored_answer(attempt_id, settings)
    if stored.rounds > 1:
        print(f"attempt {attempt_id}: replaying round {stored.rounds}'s answer", file=sys.stderr)
    if stored.cut:
        print(
            f"warning: attempt {attempt_id}'s answer was cut when stored (its end is missing); "
            "its last edit may not parse",
            file=sys.stderr,
        )
    return stored.text


def stored_answer(attempt_id: int, settings: Settings | None = None) -> StoredAnswer:
    """The final round's answer of attempt `attempt_id`, as its record kept it."""
    from bot.core.attempt_record import split_rounds

    async def fetch(sessions: Any) -> tuple[Any, Any]:
        from bot.store.models import Attempt, AttemptRecord

        async with sessions() as session:
            return (
                await session.get(Attempt, attempt_id),
                await session.get(AttemptRecord, attempt_id),
            )

    attempt, record = run_on_database(fetch, settings)
    if attempt is None:
        raise CliError(
            f"no attempt {attempt_id} is stored; `issuewright task show OWNER/REPO#ISSUE` "
            "lists a task's attempts with their ids"
        )
    if attempt.kind not in EDIT_KINDS:
        raise CliError(
            f"attempt {attempt_id} is a {attempt.kind} call, whose answer has no edits to "
            "apply; pass a generate, ci_fix or review attempt"
        )
    if record is None or not record.answer:
        raise CliError(
            f"attempt {attempt_id} has no stored answer (it ended before the model answered, "
            "or `issuewright cleanup` removed its record); pass another attempt"
        )
    parts = split_rounds(record.answer)
    return StoredAnswer(parts[-1], len(parts), CUT.search(parts[-1]) is not None)
