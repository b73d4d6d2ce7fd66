"""Listings are tables with a header: rich's on a terminal, plain aligned text elsewhere."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli import table
from bot.cli.main import main
from bot.cli.table import Column, print_table

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, highlight=False), out


def test_plain_form_is_a_header_then_aligned_rows(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(
        ["path", Column("tokens", right=True), "note"],
        [("calc/ops.py", 1200, None), ("README.md", 7, "two\nlines\tand a tab")],
        title="Packed",
    )
    assert capsys.readouterr().out == (
        "Packed\n"
        "path         tokens  note\n"
        "calc/ops.py    1200  -\n"
        "README.md         7  two lines and a tab\n"
    )


def test_plain_form_when_stdout_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(["#", "type"], [(1, "[feature]")])  # the default console: captured stdout
    out = capsys.readouterr().out
    assert out == "#  type\n1  [feature]\n" and "\x1b[" not in out


def test_rich_form_on_a_terminal() -> None:
    console, out = terminal()
    print_table(["#", "type"], [(1, "[feature]"), (2, None)], title="Tasks", console=console)
    text = out.getvalue()
    assert "\x1b[1m" in text  # a bold header
    plain = ANSI.sub("", text)
    assert "─" in plain  # the rule under the header
    rows = [line.split() for line in plain.splitlines() if line.strip()]
    assert ["Tasks"] in rows and ["#", "type"] in rows
    # Cell text is shown as written, never read as rich markup.
    assert ["1", "[feature]"] in rows and ["2", "-"] in rows


def test_a_command_prints_a_rich_table_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, out = terminal()
    monkeypatch.setattr(table, "stdout_console", lambda: console)
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "ops.py").write_text("def add(a, b):\n    return a - b\n")
    query = tmp_path / "q.md"
    query.write_text("add returns the difference")
    argv = ["context", "rank", "--repo", str(tmp_path), "--query-file", str(query)]
    assert main(argv) == 0
    plain = ANSI.sub("", out.getvalue())
    assert "─" in plain and "\x1b[1m" in out.getvalue()
    rows = [line.split() for line in plain.splitlines()]
    assert ["score", "path"] in rows and ["path", "lines"] in rows
    assert any(row[-1:] == ["calc/ops.py"] for row in rows)
