"""Units and the pieces packing cuts long ones into."""

from __future__ import annotations

from bot.context.parse import outline_python
from bot.context.units import LONG_UNIT_LINES, file_units, pieces


def _lines(n: int) -> list[str]:
    out = ["def big(x):"]
    for i in range(n):
        out.append(f"    x = x + {i}" if i % 9 else "")
    return out


def test_pieces_cover_every_non_blank_line_in_order_without_overlap() -> None:
    lines = _lines(200)
    spans = pieces(1, len(lines), lines, size=40)
    assert len(spans) > 3
    covered = [n for s, e in spans for n in range(s, e + 1)]
    assert covered == sorted(set(covered))
    assert {n for n, ln in enumerate(lines, 1) if ln.strip()} <= set(covered)
    assert all(e - s + 1 <= 40 for s, e in spans[:-1]) and spans[-1][1] - spans[-1][0] < 50
    assert all(lines[s - 1].strip() and lines[e - 1].strip() for s, e in spans)


def test_pieces_do_not_end_on_a_line_that_opens_a_block_or_before_a_closing_bracket() -> None:
    block = ["    if ready:", "        call(", "            value,", "        )", "    done()"]
    lines = ["def f():"] + block * 40
    for _, e in pieces(1, len(lines), lines, size=40)[:-1]:
        assert not lines[e - 1].rstrip().endswith((":", "("))
        assert not lines[e].lstrip().startswith(")")


def test_a_short_tail_is_folded_into_the_last_piece() -> None:
    lines = _lines(83)
    spans = pieces(1, len(lines), lines, size=40)
    assert spans[-1][1] == len(lines)
    assert spans[-1][1] - spans[-1][0] >= 10


def test_units_cover_long_functions_whole_for_ranking() -> None:
    text = "\n".join(_lines(LONG_UNIT_LINES + 20)) + "\n"
    units = file_units(outline_python("m.py", text).symbols, text.splitlines())
    assert [(u.start, u.end, u.name) for u in units] == [(1, LONG_UNIT_LINES + 21, "big")]
