"""Live progress while a model answers: when to edit the status comment, and what its row
says. Pure: the caller passes the time (seconds on any clock) and keeps the state.

Two limits decide an edit. Per task, at most one edit every `PROGRESS_INTERVAL` seconds, and
only when more tokens arrived since the last one. Per installation, an `EditBudget` shared by
every task generating in it: GitHub's documented secondary limits allow "no more than 80
content-generating requests per minute and no more than 500 per hour"
(docs.github.com, "Rate limits for the REST API"), and state changes, pull requests and
check runs need that room more than a progress line does, so progress takes a quarter.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

PROGRESS_INTERVAL = 20.0  # seconds between two progress edits of one task's row
# A quarter of GitHub's 80 per minute and 500 per hour content-generating requests.
PROGRESS_EDITS_PER_MINUTE = 20
PROGRESS_EDITS_PER_HOUR = 125


@dataclass
class EditBudget:
    """Progress edits allowed per installation: at most `per_minute` in any 60 s and
    `per_hour` in any 3600 s. `allows` decides; `spend` records an edit made."""

    per_minute: int = PROGRESS_EDITS_PER_MINUTE
    per_hour: int = PROGRESS_EDITS_PER_HOUR
    _spent: deque[float] = field(default_factory=deque)

    def _forget(self, now: float) -> None:
        while self._spent and now - self._spent[0] >= 3600:
            self._spent.popleft()

    def allows(self, now: float) -> bool:
        self._forget(now)
        last_minute = sum(1 for t in self._spent if now - t < 60)
        return last_minute < self.per_minute and len(self._spent) < self.per_hour

    def spend(self, now: float) -> None:
        self._spent.append(now)


def edit_due(
    last_edit_at: float | None,
    now: float,
    tokens: int,
    tokens_shown: int,
    *,
    interval: float = PROGRESS_INTERVAL,
) -> bool:
    """Edit the task's row now? Only when new tokens arrived since the row was last edited,
    and `interval` seconds passed since then (`last_edit_at` None: never edited)."""
    if tokens <= tokens_shown:
        return False
    return last_edit_at is None or now - last_edit_at >= interval


def elapsed_text(seconds: float) -> str:
    """ "45 s", "1 m 20 s", "1 h 5 m": the time a model has been answering."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} m {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} m"


def progress_text(tokens: int, seconds: float) -> str:
    """What a generating task's row adds to its state: "1,234 tokens so far, 1 m 20 s"."""
    return f"{tokens:,} token{'' if tokens == 1 else 's'} so far, {elapsed_text(seconds)}"
