"""Progress for what can take longer than two seconds (building a repository map, ranking
thousands of files): a spinner with a line of text on stderr, and only when stderr is a
terminal. A pipe, a log file or a test gets nothing, so stdout stays the data and stderr stays
for errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress(message: str) -> Iterator[None]:
    """Show `message` with a spinner while the block runs; it is gone afterwards."""
    console = stderr_console()
    if not console.is_terminal:
        yield
        return
    spinner = Spinner("dots", text=Text(message))
    # Not console.status(): that also captures stdout while it spins, and stdout is the
    # command's output.
    with Live(
        spinner,
        console=console,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
        refresh_per_second=10,
    ):
        yield
