"""Cut a file into units: the pieces that ranking scores and packing copies into a prompt.

A unit is a top-level function, a small class, one method of a large class (with the class
signature as its header), the header of a large class, or a run of module-level statements.
Files without an outline (docs, data, unknown languages) are cut into fixed windows.
Together the units cover every non-blank line of the file. Units are part of the cached
repository map (ranking scores them); :func:`pieces` cuts long ones further at packing time.
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


# Packing cuts a function or class longer than this into pieces of about PIECE_LINES lines,
# so the part of a long function that matches the issue can go in without the rest.
LONG_UNIT_LINES = 90
PIECE_LINES = 40


def pieces(
    start: int, end: int, lines: list[str], size: int = PIECE_LINES
) -> list[tuple[int, int]]:
    """Cut lines *start*..*end* into runs of about *size* lines for packing, each ending
    where a statement ends (the next line is blank or no deeper indented), blanks trimmed."""
    out: list[tuple[int, int]] = []
    pos = start
    while pos <= end:
        stop = min(end, pos + size - 1)
        if stop < end:
            for cut in range(stop, max(pos + size // 2, stop - size // 3), -1):
                if _boundary(lines, cut):
                    stop = cut
                    break
        s, e = pos, stop
        while s < e and not lines[s - 1].strip():
            s += 1
        while e > s and not lines[e - 1].strip():
            e -= 1
        if lines[s - 1].strip():
            out.append((s, e))
        pos = stop + 1
    if len(out) > 1 and out[-1][1] - out[-1][0] < size // 4:  # fold a short tail back in
        out[-2:] = [(out[-2][0], out[-1][1])]
    return out


def _boundary(lines: list[str], n: int) -> bool:
    """A piece may end after line *n* (1-based): the next line is blank, or starts a new
    statement no deeper indented than line *n* (not a closing bracket or a chained call)."""
    if n >= len(lines):
        return True
    nxt = lines[n]
    if not nxt.strip():
        return True
    here = lines[n - 1]
    indent = len(nxt) - len(nxt.lstrip())
    return (
        bool(here.strip())
        and indent <= len(here) - len(here.lstrip())
        and not nxt.lstrip().startswith((")", "]", "}", "."))
    )
