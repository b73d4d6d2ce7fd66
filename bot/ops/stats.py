"""`issuewright stats [--since 7d] [--json]`: how the app is doing, read from the database.

What the window (`--since`) selects, per figure, so every figure counts each thing once:
- tasks by state: tasks created in the window;
- PR merge rate: tasks whose PR was opened in the window, and of those the merged ones;
- CI-fix success rate: `ci_fix` attempts started in the window that have finished;
- median label-to-PR: tasks whose PR was opened in the window, from the issue run's creation
  (the label) to the task's `pr_opened_at`;
- spend: attempts (one row per LLM-backed try) started in the window.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select

from bot.settings import Settings
from bot.store.db import SessionFactory, make_engine, make_session_factory, redact_url
from bot.store.migrate import SchemaMissing, require_schema, sqlite_file_missing
from bot.store.models import Attempt, IssueRun, Task, aware, utcnow

T = TypeVar("T")

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
            "since": self.since.isoformat() if self.since else None,
            "generated_at": self.generated_at.isoformat(),
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


# ---------------------------------------------------------------- rendering


def _rate(part: int, whole: int) -> str:
    return f"{part}/{whole}  {part / whole:.1%}" if whole else "n/a (none yet)"


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    return " ".join(parts) or f"{secs}s"


def render_stats(stats: Stats, window: str | None) -> str:
    since = f"last {window} (since {stats.since:%Y-%m-%d %H:%M} UTC)" if stats.since else "all time"
    lines = [f"Issuewright stats: {since}", "", "Tasks by state"]
    if not stats.tasks_by_state:
        lines.append("  no tasks")
    for state, count in stats.tasks_by_state.items():
        lines.append(f"  {state:<18}{count:>6}")
    if stats.tasks_by_state:
        lines.append(f"  {'total':<18}{sum(stats.tasks_by_state.values()):>6}")
    median = stats.median_label_to_pr
    lines += [
        "",
        f"PR merge rate        {_rate(stats.prs_merged, stats.prs_opened)}",
        f"CI-fix success rate  {_rate(stats.ci_fix_succeeded, stats.ci_fix_finished)}",
        f"Median label to PR   {format_duration(median) if median else 'n/a (no PR yet)'}",
        "",
        "Spend by installation and model",
    ]
    if not stats.spend:
        lines.append("  no LLM calls")
        return "\n".join(lines)
    lines.append(
        f"  {'installation':<14}{'model':<32}{'calls':>7}{'input tok':>12}{'output tok':>12}"
        f"{'cost USD':>11}"
    )
    for r in stats.spend:
        inst = str(r.installation_id) if r.installation_id is not None else "-"
        lines.append(
            f"  {inst:<14}{r.model[:31]:<32}{r.calls:>7}{r.input_tokens:>12}"
            f"{r.output_tokens:>12}{r.cost_usd:>11.4f}"
        )
    lines.append(f"  {'total':<46}{'':>31}{stats.total_cost_usd:>11.4f}")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def run_with_database(settings: Settings, fn: Callable[[SessionFactory], Awaitable[T]]) -> T:
    """Run `fn(sessions)` on a fresh engine that is always disposed (CLI commands)."""

    missing = sqlite_file_missing(settings.database_url)
    if missing is not None:  # connecting would create an empty file
        raise SchemaMissing(f"no database at {missing}: run `issuewright db upgrade` first")

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            await require_schema(engine)
            return await fn(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def database_error_line(settings: Settings, exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no detail"
    return (
        f"issuewright: error: cannot use the database at {redact_url(settings.database_url)} "
        f"({type(exc).__name__}: {detail}); check DATABASE_URL, that the server is running "
        "and that `issuewright db upgrade` was run"
    )


def cli_stats(settings: Settings, since: str | None, as_json: bool) -> int:
    try:
        window = parse_duration(since) if since else None
    except ValueError as exc:
        print(f"issuewright: error: {exc}", file=sys.stderr)
        return 2
    try:
        stats = run_with_database(settings, lambda s: compute_stats(s, window))
    except Exception as exc:
        print(database_error_line(settings, exc), file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        print(render_stats(stats, since))
    return 0
