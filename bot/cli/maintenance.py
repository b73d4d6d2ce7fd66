"""`issuewright stats` and `issuewright cleanup`: the figures and the clean-up of bot/ops,
printed. Both work on the existing database only and never create one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.cli.inspect import run_on_database
from bot.cli.output import CliError, fail, print_json, utc
from bot.cli.table import Cell, Column, print_table
from bot.ops.cleanup import CleanupReport, cleanup
from bot.ops.stats import Stats, compute_stats, parse_duration
from bot.settings import Settings


def cli_stats(settings: Settings, since: str | None, as_json: bool) -> int:
    try:
        window = parse_duration(since) if since else None
        stats = run_on_database(lambda s: compute_stats(s, window), settings)
    except (ValueError, CliError) as exc:
        return fail(str(exc))
    if as_json:
        print_json(stats.to_dict())
    else:
        show_stats(stats, since)
    return 0


def cli_cleanup(settings: Settings, older_than: str, dry_run: bool, as_json: bool = False) -> int:
    worktrees_dir = Path(settings.data_dir) / "worktrees"
    try:
        window = parse_duration(older_than)
        report = run_on_database(
            lambda s: cleanup(s, window, worktrees_dir, dry_run=dry_run), settings
        )
    except (ValueError, CliError) as exc:
        return fail(str(exc))
    if as_json:
        print_json(
            {
                "dry_run": report.dry_run,
                "older_than": older_than,
                "cutoff": report.cutoff,
                "deliveries": report.deliveries,
                "jobs": report.jobs,
                "events": report.events,
                "worker_heartbeats": report.worker_beats,
                "attempt_records": report.records,
                "worktrees": report.worktrees,
                "worktrees_kept": report.worktrees_kept,
            }
        )
    else:
        show_cleanup(report, older_than)
    return 0


# ---------------------------------------------------------------- stats


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


def show_stats(stats: Stats, window: str | None) -> None:
    since = "all time"
    if stats.since:
        since = f"last {window} (since {utc(stats.since):%Y-%m-%d %H:%M} UTC)"
    print(f"Issuewright stats: {since}\n")
    if stats.tasks_by_state:
        states = list(stats.tasks_by_state.items())
        total = sum(stats.tasks_by_state.values())
        print_table(
            ["state", Column("tasks", right=True)],
            [*states, ("total", total)],
            title="Tasks by state",
        )
    else:
        print("Tasks by state: no tasks")
    median = stats.median_label_to_pr
    print(
        f"\nPR merge rate        {_rate(stats.prs_merged, stats.prs_opened)}\n"
        f"CI-fix success rate  {_rate(stats.ci_fix_succeeded, stats.ci_fix_finished)}\n"
        f"Median label to PR   {format_duration(median) if median else 'n/a (no PR yet)'}\n"
    )
    if not stats.spend:
        print("Spend by installation and model: no LLM calls")
        return
    rows: list[tuple[Cell, ...]] = [
        (
            r.installation_id,
            r.model,
            r.calls,
            f"{r.input_tokens:,}",
            f"{r.output_tokens:,}",
            f"{r.cost_usd:.4f}",
        )
        for r in stats.spend
    ]
    rows.append(("total", "", "", "", "", f"{stats.total_cost_usd:.4f}"))
    print_table(
        [
            "installation",
            "model",
            Column("calls", right=True),
            Column("input tokens", right=True),
            Column("output tokens", right=True),
            Column("cost USD", right=True),
        ],
        rows,
        title="Spend by installation and model",
    )


# ---------------------------------------------------------------- cleanup


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def show_cleanup(report: CleanupReport, older_than: str) -> None:
    verb = "would remove" if report.dry_run else "removed"
    parts = [
        _plural(report.deliveries, "delivery"),
        _plural(report.jobs, "job"),
        _plural(report.events, "event"),
        _plural(report.worker_beats, "worker heartbeat"),
        _plural(report.records, "attempt record"),
        _plural(len(report.worktrees), "worktree"),
    ]
    print(
        f"{verb} {', '.join(parts[:-1])} and {parts[-1]} older than {older_than}"
        f" (before {utc(report.cutoff):%Y-%m-%d %H:%M} UTC)"
    )
    kept = "kept: its task is active or unknown, or it could not be removed"
    rows = [(str(path), verb) for path in report.worktrees]
    rows += [(str(path), kept) for path in report.worktrees_kept]
    if rows:
        print_table(["worktree", "what became of it"], rows)
