"""Pack the best code for an issue into a token budget.

Small top files go in whole; from larger ones the most relevant units (functions, methods,
classes, module-level blocks; see :mod:`units`) go in, each method with the signature of its
class. A unit longer than ``LONG_UNIT_LINES`` is cut into pieces (:func:`units.pieces`), each
worth the unit's relevance times how well it matches the issue's words, and shown after the
signature it belongs to. Units are chosen greedily by value per token, ``file weight × (base +
relevance)`` over a softened size, with diminishing returns per file (a unit's value halves
once its file holds ``FILE_SHARE`` of the budget), so one large top file cannot crowd out the
right function of the next. The file weight falls with the file's rank and score; relevance is
the function-level ranking of :mod:`focus` (BM25 of the unit, identifiers it defines,
traceback frames and messages inside it). Neighbours of the best units are lifted: functions
the best unit of a top file names in the same file (calls or passes around), callees and
callers of the best few, and optionally functions they call elsewhere.

Files the issue or task names (a path, a module, a symbol: :mod:`named`) go in before any
ranked file, each from at most ``NAMED_FILE_SHARE`` of the budget: whole when it fits, else
its most relevant units, chosen as above (after the opening lines of a changelog or guide).
They lead the code; ranked files follow in what is left, a named one among them too.
README/CONTRIBUTING excerpts lead, sized from what the code leaves, unless the code shows
that file already: nothing is packed twice. Every slice is printed as ``### path lines a-b``
and the unchanged lines, so a model can quote them in SEARCH blocks (:mod:`excerpts`).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.repo_config import is_app_file

from .excerpts import clip, merge_spans, preamble, render_slice, spans_cost
from .focus import called_names, callee_units, calls_any, names_in, piece_scores, unit_relevance
from .named import named_files
from .rank import first_line
from .repomap import RepoMap
from .signals import extract_signals, strip_noise
from .textutil import estimate_tokens
from .units import LONG_UNIT_LINES, pieces

TOP_FILES = 15  # files whose units compete for the budget
WHOLE_FILE_TOKENS = 1500  # a top file this small goes in whole …
WHOLE_FILE_SHARE = 0.12  # … or this share of the budget, whichever is larger
WHOLE_FILE_RANKS = 5
FIRST_FILES = 5  # the best unit of each of these first files goes in before the rest
PREAMBLE_SHARE = 0.06  # at most this share of the budget for README/CONTRIBUTING excerpts
INSTRUCTIONS_SHARE = 0.15
RANK_DECAY = 0.35  # file weight: score relative to the best, over 1 + this × rank
DENSITY_EXP = 0.35  # 0: pure priority order, 1: priority per token
BASE = 0.15  # relevance every unit of a top file has, so the best files fill gaps
FILE_SHARE = 0.25  # a file's units lose half their value once it holds this share
PIECE_FLOOR = 0.1  # a piece of a long unit that matches no issue word keeps this share
CALLEE_LIFT = 0.6  # a same-file callee of a best unit is worth this share of it
NAMED_SHARE = 0.5  # at most this share of the budget for the files the issue names …
NAMED_FILE_SHARE = 0.1  # … this share for each (more of it only if it ranks) …
MAX_NAMED = 8  # … and at most this many of them
CALLEE_SHARE = 0.0  # functions the best units call in other files; 0.6 cost 1 at 32k, 0 at 16k


@dataclass(slots=True)
class PackedContext:
    text: str
    slices: list[tuple[str, int, int]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    tokens: int = 0


@dataclass(slots=True)
class _Cand:
    file: int
    start: int
    end: int
    priority: float
    headers: tuple[tuple[int, int], ...]  # class / function signatures shown before it
    name: str
    unit: tuple[int, int] = (0, 0)  # the whole unit a piece was cut from
    share: float = 1.0  # the piece's share of the unit's relevance


def pack_context(
    repo_map: RepoMap,
    ranked: list[tuple[str, float]],
    query: str,
    budget_tokens: int = 16000,
    instructions: str = "",
    *,
    title: str = "",
    named: Sequence[str] | None = None,
) -> PackedContext:
    """*named*: files the issue or task names, packed before the ranked ones (None: the
    files *query* names, :func:`named.named_files`)."""
    parts: list[str] = []
    used = 0
    if instructions.strip():
        text = clip(instructions.strip(), int(budget_tokens * INSTRUCTIONS_SHARE))
        parts.append(f"### Instructions\n{text}\n")
        used += estimate_tokens(parts[-1])
    packed = PackedContext(text="")
    code: list[str] = []
    # The app's own files (`.github/issuewright.yml`, prompt overrides) are never code context.
    ranked = [(p, s) for p, s in ranked if not is_app_file(p)]
    if named is None:
        named = named_files(repo_map, [query], MAX_NAMED)
    index = repo_map.index_of
    first = [index[p] for p in dict.fromkeys(named) if p in index and not is_app_file(p)]
    first = first[:MAX_NAMED]
    chosen, whole = _choose_named(repo_map, first, query, title, budget_tokens - used)
    left = budget_tokens - used - spans_cost(repo_map, chosen)
    rest = [(p, s) for p, s in ranked if repo_map.index_of.get(p) not in whole]
    chosen += _choose(repo_map, rest, query, title, left, taken=set(chosen))
    names = [*(repo_map.paths[f] for f in first), *(p for p, _ in ranked)]
    order = {p: r for r, p in enumerate(dict.fromkeys(names))}  # named files first
    by_file: dict[int, list[tuple[int, int]]] = {}
    for f, s, e in chosen:
        by_file.setdefault(f, []).append((s, e))
    for f in sorted(by_file, key=lambda i: order.get(repo_map.paths[i], len(order))):
        path, lines = repo_map.paths[f], repo_map.entries[f].text.splitlines()
        for s, e in merge_spans(by_file[f], lines):
            code.append(render_slice(path, s, e, lines))
            packed.slices.append((path, s, e))
    # README / CONTRIBUTING excerpts lead, but only from what the code leaves: when the
    # budget is tight the code that must change matters more than the orientation.
    left = budget_tokens - used - estimate_tokens("\n".join(code)) - 2 * (len(code) + 2)
    shown = {repo_map.paths[f] for f in by_file}  # a README the code shows is not repeated
    front = preamble(repo_map, min(int(budget_tokens * PREAMBLE_SHARE), left), shown)
    packed.slices[:0] = [(path, s, e) for path, s, e, _ in front]
    packed.files = list(dict.fromkeys(path for path, _, _ in packed.slices))
    packed.text = "\n".join([*parts, *(part for *_, part in front), *code])
    packed.tokens = estimate_tokens(packed.text)
    return packed


def _choose_named(
    repo_map: RepoMap, files: list[int], query: str, title: str, budget: int
) -> tuple[list[tuple[int, int, int]], set[int]]:
    """Spans of the named files within ``NAMED_SHARE`` of *budget*, each file a fair share of
    what is left, at most ``NAMED_FILE_SHARE`` of *budget*: a file that fits goes in whole (returned
    in the set), a larger one gives its units most relevant to the issue, as packing chooses
    them for a ranked file, after its opening lines unless it is code (the newest changelog
    entry, a guide's title and contents, a test module's imports). A named file that also
    ranks high gets more of it later, like any ranked file."""
    chosen: list[tuple[int, int, int]] = []
    whole: set[int] = set()
    total, cap = int(budget * NAMED_SHARE), int(budget * NAMED_FILE_SHARE)
    for k, f in enumerate(files):
        share = min(cap, (total - spans_cost(repo_map, chosen)) // (len(files) - k))
        lines = repo_map.entries[f].text.splitlines()
        if not lines or share <= 0:
            continue
        if spans_cost(repo_map, [(f, 1, len(lines))]) <= share:
            chosen.append((f, 1, len(lines)))
            whole.add(f)
            continue
        units = repo_map.units[f]
        head = []  # where a changelog or a guide takes a new entry; code has its relevance
        if units and repo_map.entries[f].kind != "source":
            head = [(f, *pieces(units[0].start, units[0].end, lines)[0])]
        if spans_cost(repo_map, head) > share // 2:
            head = []
        left = share - spans_cost(repo_map, head)
        ranked = [(repo_map.paths[f], 1.0)]
        chosen += head + _choose(repo_map, ranked, query, title, left, taken=set(head))
    return chosen, whole


def _choose(
    repo_map: RepoMap,
    ranked: list[tuple[str, float]],
    query: str,
    title: str,
    budget: int,
    taken: set[tuple[int, int, int]] | None = None,
) -> list[tuple[int, int, int]]:
    """Spans of the top ranked files within *budget*; *taken* spans are already in."""
    top = [(repo_map.index_of[p], s) for p, s in ranked[:TOP_FILES] if p in repo_map.index_of]
    if not top or budget <= 0:
        return []
    best = max(s for _, s in top) or 1.0
    title = title or first_line(query)
    text = strip_noise(f"{title}\n{title}\n{query}" if title else query)
    sig = extract_signals(text)
    focus = unit_relevance(
        repo_map,
        [f for f, _ in top],
        sig,
        repo_map.tokens(text),
        repo_map.tokens(title),
        module_head={f for f, _ in top[:3]},
    )
    qtoks = set(repo_map.tokens(text))
    cands: list[_Cand] = []
    for rank, (f, score) in enumerate(top):
        weight = max(score, 0.0) / best / (1 + RANK_DECAY * rank)
        entry = repo_map.entries[f]
        rels = focus.rel[f]
        total = estimate_tokens(entry.text)
        top_rel = max(rels, default=0.0) or 1.0
        if rank < WHOLE_FILE_RANKS and total <= max(WHOLE_FILE_TOKENS, budget * WHOLE_FILE_SHARE):
            n = max(1, len(entry.text.splitlines()))
            cands.append(_Cand(f, 1, n, weight * (BASE + 0.5 * top_rel + 1.0), (), ""))
            continue
        lines = entry.text.splitlines()
        sig_end = {s.qualname: s.header_end for s in entry.outline.symbols}
        for u, rel in zip(repo_map.units[f], rels, strict=True):
            # Half global relevance, half relative to the file's best unit: every top file
            # gets its best units in, the best file gets more of them.
            mixed = 0.5 * rel + 0.5 * rel / top_rel
            head = (u.header,) if u.header else ()
            if u.name == "<module>" or u.end - u.start + 1 <= LONG_UNIT_LINES:
                cands.append(_Cand(f, u.start, u.end, weight * (BASE + mixed), head, u.name))
                continue
            # A long function or class body: pieces, the ones that match the issue worth more,
            # each after the signature it belongs to.
            spans = pieces(u.start, u.end, lines)
            share = piece_scores(repo_map, lines, spans, qtoks)
            signature = (u.start, max(u.start, sig_end.get(u.name, u.start)))
            for k, (s, e) in enumerate(spans):
                part = PIECE_FLOOR + (1 - PIECE_FLOOR) * share[k]
                pr = weight * (BASE + mixed * part)
                heads = head + ((signature,) if k else ())
                cands.append(_Cand(f, s, e, pr, heads, u.name, (u.start, u.end), part))
    _neighbours(repo_map, cands)
    return _greedy(repo_map, cands, budget, taken or set())


def _neighbours(repo_map: RepoMap, cands: list[_Cand]) -> None:
    """Lift callees and callers of the best units so they follow them in: the best few
    overall and the best unit of each of the first files. A callee in the same file is worth
    a share of its caller; functions they call in other files may join as candidates."""
    named = [c for c in cands if c.name and c.name != "<module>"]
    best = sorted(named, key=lambda c: -c.priority)[:5]
    if not best:
        return
    per_file: dict[int, _Cand] = {}
    for c in sorted(named, key=lambda c: -c.priority):
        per_file.setdefault(c.file, c)
    seeds = list(per_file.values())[:WHOLE_FILE_RANKS]
    refs = {
        id(c): names_in(repo_map, c.file, *(c.unit if c.unit[1] else (c.start, c.end)))
        for c in seeds
    }
    called: set[str] = set()
    for c in best:
        called |= called_names(repo_map, c.file, c.start, c.end)
    names = {c.name.rsplit(".", 1)[-1] for c in best}
    floor = best[-1].priority * 0.4
    near = {c.file for c in best}
    have = {(c.file, c.start) for c in cands}
    for c in cands:
        leaf = c.name.rsplit(".", 1)[-1]
        if c in best or c in seeds or not leaf or leaf == "<module>":
            continue
        callers = [s for s in seeds if s.file == c.file and leaf in refs[id(s)]]
        lift = max((s.priority * CALLEE_LIFT * c.share for s in callers), default=0.0)
        if c.file in near and leaf in called:
            lift = max(lift, floor)
        elif c.file in near and calls_any(repo_map, c.file, c.start, c.end, names):
            lift = max(lift, floor * 0.8)
        c.priority = max(c.priority, lift)
    if CALLEE_SHARE <= 0:
        return
    spans = [(c.file, c.start, c.end) for c in best]
    for g, k in callee_units(repo_map, spans, skip=names | {"__init__", "super"}):
        u = repo_map.units[g][k]
        if (g, u.start) not in have:
            head = (u.header,) if u.header else ()
            cands.append(_Cand(g, u.start, u.end, floor * CALLEE_SHARE, head, u.name))


def _greedy(
    repo_map: RepoMap, cands: list[_Cand], budget: int, taken: set[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    chosen: list[tuple[int, int, int]] = []
    have = set(taken)
    used = 0
    lines_of: dict[int, list[str]] = {}
    for c in cands:
        if c.file not in lines_of:
            lines_of[c.file] = repo_map.entries[c.file].text.splitlines()

    def density(c: _Cand) -> float:  # value per token, softened: long units still compete
        if not c.name:  # a whole small file: one read, worth its size
            return c.priority
        size = sum(len(x) + 1 for x in lines_of[c.file][c.start - 1 : c.end])
        return c.priority / max(1.0, size / 800) ** DENSITY_EXP

    # First the best piece of each of the first files, then everything by value per token,
    # with diminishing returns per file: a unit's value falls as its file fills the budget,
    # so one large top file cannot crowd out the right function of the next one.
    firsts: dict[int, _Cand] = {}
    for c in sorted(cands, key=lambda c: -c.priority):
        if len(firsts) < FIRST_FILES and c.file not in firsts:
            firsts[c.file] = c
    spent: dict[int, int] = {}
    soft = max(1.0, FILE_SHARE * budget)

    def value(c: _Cand) -> float:
        return density(c) / (1 + spent.get(c.file, 0) / soft)

    def take(c: _Cand) -> None:
        nonlocal used
        if (c.file, c.start, c.end) in have:
            return
        path, lines = repo_map.paths[c.file], lines_of[c.file]
        parts = [(c.file, s, e) for s, e in c.headers if (c.file, s, e) not in have]
        parts.append((c.file, c.start, c.end))
        cost = sum(estimate_tokens(render_slice(path, s, e, lines)) for _, s, e in parts)
        if used + cost > budget:
            return
        used += cost
        spent[c.file] = spent.get(c.file, 0) + cost
        for p in parts:
            if p not in have:
                have.add(p)
                chosen.append(p)

    for c in firsts.values():
        if c.priority > 0:
            take(c)
    heap = [(-value(c), i, c) for i, c in enumerate(cands) if c not in firsts.values()]
    heapq.heapify(heap)
    while heap:
        neg, i, c = heapq.heappop(heap)
        if c.priority <= 0:
            continue
        now = value(c)
        if now < -neg - 1e-12:  # stale: its file has grown since it was pushed
            heapq.heappush(heap, (-now, i, c))
            continue
        take(c)
    return chosen
