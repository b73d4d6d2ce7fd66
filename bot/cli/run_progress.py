"""What `issuewright run` shows while it works: on a terminal, a live table on stderr with one
line per task (stage, tokens, cost, elapsed); elsewhere, the plain log lines only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.live import Live
from rich.table import Table

from bot.cli import progress
from bot.cli.run_record import RunRecord


def render(record: RunRecord, started: dict[int, float]) -> Table:
    table = Table(box=None, title=f"issuewright run {record.run_id}", title_justify="left")
    for name in ("#", "task", "stage", "tokens", "cost", "time"):
        table.add_column(name, justify="right" if name in {"#", "tokens", "cost"} else "left")
    now = time.monotonic()
    for t in record.tasks:
        since = started.get(t.ordinal)
        elapsed = t.seconds + (now - since if since and t.state == "running" else 0.0)
        table.add_row(
            str(t.ordinal),
            t.title[:50],
            t.stage if t.state == "running" else t.state,
            f"{t.tokens['input']:,} in / {t.tokens['output']:,} out",
            f"${t.cost_usd:.4f}",
            f"{elapsed:.0f}s",
        )
    return table


@contextmanager
def live_display(record: RunRecord) -> Iterator[dict[int, float] | None]:
    """A live table while the block runs, on a terminal; yields the tasks' start times for
    the runner to fill in (None: no display)."""
    console = progress.stderr_console()
    if not console.is_terminal:
        yield None
        return
    started: dict[int, float] = {}
    with Live(
        get_renderable=lambda: render(record, started),
        console=console,
        redirect_stdout=False,
        redirect_stderr=False,
        refresh_per_second=4,
    ):
        yield started
