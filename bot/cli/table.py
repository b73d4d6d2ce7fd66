"""Every listing the command line prints, as a table with a header.

On a terminal it is a rich table (bold header, wrapped to the window). Anywhere else (a
pipe, a file, a test capturing stdout) it is plain text: a header line, then one line per
row, columns padded with spaces and separated by two, no colour and no wrapping, so `grep`,
`sort` and `cut`/`awk` keep working. rich decides what a terminal is (`FORCE_COLOR`,
`TTY_COMPATIBLE` and `NO_COLOR` are honoured); a test hands in its own `Console`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # numbers line up on the right


def stdout_console() -> Console:
    """A console on whatever `sys.stdout` is when it prints (rich looks it up each time)."""
    return Console(highlight=False)


def print_table(
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str | None = None,
    console: Console | None = None,
) -> None:
    """Print `rows` under `columns`; a cell of None shows as `-`."""
    console = console or stdout_console()
    cols = [c if isinstance(c, Column) else Column(c) for c in columns]
    cells = [[_cell(value) for value in row] for row in rows]
    if console.is_terminal:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, header_style="bold")
        for col in cols:
            table.add_column(col.header, justify="right" if col.right else "left")
        for row in cells:
            # Text, not str: a task title like "[feature]" is not rich markup.
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return
    lines = [title] if title else []
    lines += plain_lines(cols, cells)
    console.file.write("".join(f"{line}\n" for line in lines))


def plain_lines(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(c.header) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    out = []
    for row in [[c.header for c in columns], *rows]:
        padded = [
            cell.rjust(width) if col.right else cell.ljust(width)
            for col, cell, width in zip(columns, row, widths, strict=True)
        ]
        out.append("  ".join(padded).rstrip())
    return out


def _cell(value: Cell) -> str:
    if value is None:
        return "-"
    # One row is one line: a line break or tab inside a value would split or shift it.
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)
