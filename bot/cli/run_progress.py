"""What `issuewright run` shows while it works: on a terminal, a live table on stderr with one
line per task (stage, tokens so far, cost, elapsed), redrawn as the answer streams in;
elsewhere, plain log lines (a task starts, a call is answered, every
`PLAIN_TOKENS_STEP` tokens of a long answer, a task ends)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.live import Live
from rich.table import Table

from bot.cli import progress
from bot.cli.run_record import RunRecord, TaskRecord

# A plain log line per this many output tokens of one answer: a slow local model is seen to
# be alive in a CI log without a line per chunk.
PLAIN_TOKENS_STEP = 1000


@dataclass
class Display:
    """The run's progress as the tasks report it; `live` is the terminal's table, if any."""

    record: RunRecord
    say: Callable[[str], None]
    live: Live | None = None
    started: dict[int, float] = field(default_factory=dict)
    # Output tokens of the answer being received now, per task (0 between calls).
    streaming: dict[int, int] = field(default_factory=dict)

    def start(self, task: TaskRecord) -> None:
        self.started[task.ordinal] = time.monotonic()
        self.streaming[task.ordinal] = 0

    def stage(self, task: TaskRecord, text: str) -> None:
        task.stage = text
        self.streaming[task.ordinal] = 0
        self._redraw()

    def tokens(self, task: TaskRecord, count: int) -> None:
        """The progress callback of a streamed call: output tokens of this answer so far."""
        before = self.streaming.get(task.ordinal, 0)
        self.streaming[task.ordinal] = count
        if self.live is not None:
            if before == 0 and count > 0:  # the first tokens are drawn at once, not at a tick
                self._redraw()
        elif count // PLAIN_TOKENS_STEP > before // PLAIN_TOKENS_STEP:
            self.say(f"task {task.ordinal}: {count:,} tokens of the answer so far")

    def answered(self, task: TaskRecord, line: str) -> None:
        self.streaming[task.ordinal] = 0
        if self.live is None:
            self.say(f"task {task.ordinal}: {line}")
        else:
            self._redraw()

    def _redraw(self) -> None:
        if self.live is not None:
            self.live.refresh()

    def render(self) -> Table:
        record = self.record
        table = Table(box=None, title=f"issuewright run {record.run_id}", title_justify="left")
        for name in ("#", "task", "stage", "tokens", "cost", "time"):
            table.add_column(name, justify="right" if name in {"#", "tokens", "cost"} else "left")
        now = time.monotonic()
        for t in record.tasks:
            running = t.state == "running"
            since = self.started.get(t.ordinal)
            elapsed = t.seconds + (now - since if since and running else 0.0)
            streamed = self.streaming.get(t.ordinal, 0) if running else 0
            out = f"{t.tokens['output'] + streamed:,}" + ("…" if streamed else "")
            table.add_row(
                str(t.ordinal),
                t.title[:50],
                t.stage if running else t.state,
                f"{t.tokens['input']:,} in / {out} out",
                f"${t.cost_usd:.4f}",
                f"{elapsed:.0f}s",
            )
        return table


@contextmanager
def live_display(record: RunRecord, say: Callable[[str], None]) -> Iterator[Display]:
    """The run's display: a live table while the block runs on a terminal, else log lines."""
    display = Display(record, say)
    console = progress.stderr_console()
    if not console.is_terminal:
        yield display
        return
    with Live(
        get_renderable=display.render,
        console=console,
        redirect_stdout=False,
        redirect_stderr=False,
        refresh_per_second=4,
    ) as live:
        display.live = live
        try:
            yield display
        finally:
            display.live = None
