"""How the app is doing, read from the database (`issuewright stats`, printed by
bot/cli/maintenance.py).

What the window (`--since`) selects, per figure, so every figure counts each thing once:
- tasks by state: tasks created in the window;
- PR merge rate: tasks whose PR was opened in the window, and of those the merged ones;
- CI-fix success rate: `ci_fix` attempts started in the window that have finished;
- median label-to-PR: tasks whose PR was opened in the window, from the issue run's creation
  (the label) to the task's `pr_opened_at`;
- spend: attempts (one row per LLM-backed try) started in the window.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.store.db import SessionFactory
from bot.store.models import Attempt, IssueRun, Task, aware, utcnow

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+)\s*([a-z])")


def parse_duration(text: str) -> timedelta:
    """ "7d", "12h", "30m", "2w" (or combined, "1d12h") → timedelta. ValueError says how."""
    cleaned = (text or "").strip().lower()
    hint = "use a number and a unit: m (minutes), h (hours), d (days) or w (weeks), e.g. 7d"
    parts = _PART.findall(cleaned)
    # Everything must be consumed by number+unit pairs, so "7 days" or "7" is refused
    # rather than half-read.
    if not parts or _PART.sub("", cleaned).strip():
        raise ValueError(f"invalid duration {text!r}: {hint}")
    total = timedelta()
    for number, unit in parts:
        if unit not in _UNITS:
            raise ValueError(f"invalid duration {text!r}: unknown unit {unit!r}; {hint}")
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total <= timedelta():
        raise ValueError(f"invalid duration {text!r}: it must be longer than zero")
    return total


@dataclass(frozen=True)
class SpendRow:
    installation_id: int | None
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class Stats:
    since: datetime | None
    generated_at: datetime
    tasks_by_state: dict[str, int] = field(default_factory=dict)
    prs_opened: int = 0
    prs_merged: int = 0
    ci_fix_finished: int = 0
    ci_fix_succeeded: int = 0
    median_label_to_pr: timedelta | None = None
    spend: list[SpendRow] = field(default_factory=list)

    @property
    def merge_rate(self) -> float | None:
        return self.prs_merged / self.prs_opened if self.prs_opened else None

    @property
    def ci_fix_success_rate(self) -> float | None:
        return self.ci_fix_succeeded / self.ci_fix_finished if self.ci_fix_finished else None

    @property
    def total_cost_usd(self) -> float:
        return sum(row.cost_usd for row in self.spend)

    def to_dict(self) -> dict[str, Any]:
        median = self.median_label_to_pr
        return {
            "since": self.since,
            "generated_at": self.generated_at,
            "tasks_by_state": self.tasks_by_state,
            "prs_opened": self.prs_opened,
            "prs_merged": self.prs_merged,
            "merge_rate": self.merge_rate,
            "ci_fix_finished": self.ci_fix_finished,
            "ci_fix_succeeded": self.ci_fix_succeeded,
            "ci_fix_success_rate": self.ci_fix_success_rate,
            "median_label_to_pr_seconds": median.total_seconds() if median else None,
            "spend": [asdict(row) for row in self.spend],
            "total_cost_usd": self.total_cost_usd,
        }


async def compute_stats(
    sessions: SessionFactory, since: timedelta | None, now: datetime | None = None
) -> Stats:
    now = (now or utcnow()).astimezone(UTC)
    cutoff = now - since if since is not None else None

    def within(column: Any) -> Any:
        return column >= cutoff if cutoff is not None else column.is_not(None)

    async with sessions() as session:
        by_state = (
            await session.execute(
                select(Task.state, func.count()).where(within(Task.created_at)).group_by(Task.state)
            )
        ).all()
        pr_rows = (
            await session.execute(
                select(Task.state, Task.pr_opened_at, IssueRun.created_at)
                .join(IssueRun, IssueRun.id == Task.run_id)
                .where(within(Task.pr_opened_at))
            )
        ).all()
        fix_rows = (
            await session.execute(
                select(Attempt.outcome, func.count())
                .where(
                    Attempt.kind == "ci_fix",
                    Attempt.outcome != "running",
                    within(Attempt.started_at),
                )
                .group_by(Attempt.outcome)
            )
        ).all()
        spend_rows = (
            await session.execute(
                select(
                    Attempt.installation_id,
                    Attempt.model,
                    func.count(),
                    func.coalesce(func.sum(Attempt.input_tokens), 0),
                    func.coalesce(func.sum(Attempt.output_tokens), 0),
                    func.coalesce(func.sum(Attempt.cost_usd), 0.0),
                )
                .where(within(Attempt.started_at))
                .group_by(Attempt.installation_id, Attempt.model)
            )
        ).all()

    waits = []
    for _state, opened_at, labeled_at in pr_rows:
        opened, labeled = aware(opened_at), aware(labeled_at)
        if opened and labeled and opened >= labeled:  # a skewed clock must not yield < 0
            waits.append(opened - labeled)
    spend = [
        SpendRow(inst, model or "unknown", int(n), int(tin), int(tout), float(cost))
        for inst, model, n, tin, tout, cost in spend_rows
    ]
    # Biggest spenders first: that is what an operator looks for.
    spend.sort(key=lambda r: (-r.cost_usd, r.installation_id or 0, r.model))
    return Stats(
        since=cutoff,
        generated_at=now,
        tasks_by_state=dict(sorted((state, int(n)) for state, n in by_state)),
        prs_opened=len(pr_rows),
        prs_merged=sum(1 for state, *_ in pr_rows if state == "merged"),
        ci_fix_finished=sum(int(n) for _, n in fix_rows),
        ci_fix_succeeded=sum(int(n) for outcome, n in fix_rows if outcome == "success"),
        median_label_to_pr=(
            timedelta(seconds=statistics.median(w.total_seconds() for w in waits))
            if waits
            else None
        ),
        spend=spend,
    )
