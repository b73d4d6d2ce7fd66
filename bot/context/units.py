"""Cut a file into units: the pieces that ranking scores and packing copies into a prompt.

A unit is a top-level function, a small class, one method of a large class (with the class
signature as its header), the header of a large class, or a run of module-level statements.
Files without an outline (docs, data, unknown languages) are cut into fixed windows.
Together the units cover every non-blank line of the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from .parse import Symbol

SMALL_CLASS_LINES = 80  # a class up to this size is one unit, larger ones split by method
WINDOW_LINES = 50  # window size for module-level runs and files without an outline


@dataclass(slots=True, frozen=True)
class Unit:
    start: int  # 1-based, inclusive
    end: int
    name: str  # qualname, or "<module>" for module-level statements
    header: tuple[int, int] | None = None  # enclosing class signature lines, if any


def file_units(symbols: list[Symbol], lines: list[str]) -> list[Unit]:
    n = len(lines)
    if n == 0:
        return []
    top = sorted((s for s in symbols if not s.parent), key=lambda s: s.start)
    units: list[Unit] = []
    pos = 1
    for sym in top:
        if sym.start < pos:  # overlapping outline (fallback parser); skip
            continue
        units += _gap(pos, sym.start - 1, lines, "<module>", None)
        if sym.kind == "class" and sym.end - sym.start + 1 > SMALL_CLASS_LINES:
            units += _split_class(sym, symbols, lines)
        else:
            units.append(Unit(sym.start, sym.end, sym.qualname))
        pos = sym.end + 1
    units += _gap(pos, n, lines, "<module>", None)
    return units


def _split_class(cls: Symbol, symbols: list[Symbol], lines: list[str]) -> list[Unit]:
    header = (cls.start, cls.header_end)
    members = sorted(
        (s for s in symbols if s.parent == cls.qualname and s.start > cls.header_end),
        key=lambda s: s.start,
    )
    out: list[Unit] = []
    first = members[0].start - 1 if members else cls.end
    out.append(Unit(cls.start, min(first, cls.end), cls.qualname, None))
    pos = first + 1
    for m in members:
        if m.start < pos:
            continue
        out += _gap(pos, m.start - 1, lines, cls.qualname, header)
        out.append(Unit(m.start, m.end, m.qualname, header))
        pos = m.end + 1
    out += _gap(pos, cls.end, lines, cls.qualname, header)
    return out


def _gap(
    start: int, end: int, lines: list[str], name: str, header: tuple[int, int] | None
) -> list[Unit]:
    """Module- or class-level statements between definitions, in windows, blanks trimmed."""
    while start <= end and not lines[start - 1].strip():
        start += 1
    while end >= start and not lines[end - 1].strip():
        end -= 1
    out = []
    for s in range(start, end + 1, WINDOW_LINES):
        out.append(Unit(s, min(end, s + WINDOW_LINES - 1), name, header))
    return out
