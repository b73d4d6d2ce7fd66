"""Which units (functions, methods, classes, blocks) of the top files matter for an issue.

The same signals as the file ranking, one level down: BM25 of the unit against the issue
and its title, identifiers the issue names that the unit defines (or whose class it belongs
to), traceback frames that point into the unit (by function name or line), error messages
and quoted phrases the unit contains, CLI flags it spells. Plus the neighbours of the best
units: functions they call that are defined in other files, and callers of the best units.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .repomap import RepoMap
from .resolve import match_path
from .signals import IssueSignals, message_ngrams

FRAME_FUNC = 1.5  # a traceback frame names the unit's function
FRAME_LINE = 1.5  # … or its line number lies inside the unit (later frames weigh more)
MESSAGE = 1.0  # every n-gram of an error message / quoted phrase found in the unit
LITERAL = 0.5  # a CLI flag or option name the issue spells, quoted in the unit
CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
NAME_RE = re.compile(r"\b[A-Za-z_]\w*\b")


@dataclass(slots=True)
class Focus:
    """Relevance of every unit of the files asked about, by file index."""

    rel: dict[int, list[float]]


def unit_relevance(
    repo_map: RepoMap,
    files: list[int],
    sig: IssueSignals,
    tokens: list[str],
    title_tokens: list[str],
    module_head: set[int],
) -> Focus:
    offsets = np.searchsorted(repo_map.unit_file, [*range(len(repo_map.paths)), 1 << 30])
    ids = np.flatnonzero(np.isin(repo_map.unit_file, files))
    scores = _bm25(repo_map, tokens, ids)
    tscores = _bm25(repo_map, title_tokens, ids)
    idents: dict[str, float] = {}
    for word, weight in sig.identifiers.items():  # prose says "blueprint" for `Blueprint`
        for key in (word, word.lower()):
            idents[key] = max(idents.get(key, 0.0), weight if key == word else weight * 0.7)
    frame_funcs = {f.func.rpartition(".")[2] for f in sig.frames if f.func}  # `Plot._plot`
    frame_lines = _frame_lines(repo_map, sig)
    grams = [g for m in sig.messages for g in message_ngrams(m)[:12]]
    literals = [f"{q}{lit.lower()}" for lit in sig.literals for q in "\"'"]
    out: dict[int, list[float]] = {}
    for f in files:
        units = repo_map.units[f]
        lines = repo_map.entries[f].text.splitlines()
        low = repo_map.entries[f].text.lower()
        f_grams = [g for g in grams if g in low]
        f_lits = [lit for lit in literals if lit in low]
        rels: list[float] = []
        for k, u in enumerate(units):
            uid = int(offsets[f]) + k
            rel = float(scores[uid] + 0.5 * tscores[uid])
            owner, _, leaf = u.name.rpartition(".")
            rel += idents.get(leaf, idents.get(leaf.lower(), 0.0))
            rel += FRAME_FUNC if leaf in frame_funcs else 0.0
            rel += max((w for ln, w in frame_lines.get(f, []) if u.start <= ln <= u.end), default=0)
            cls = owner.rpartition(".")[2]
            named = idents.get(cls, idents.get(cls.lower(), 0.0)) if cls else 0.0
            rel += named * (0.8 if leaf == "__init__" else 0.3)
            if f_grams or f_lits:
                body = "\n".join(lines[u.start - 1 : u.end]).lower()
                rel += MESSAGE * sum(g in body for g in f_grams) / max(4, len(f_grams))
                rel += LITERAL * any(lit in body for lit in f_lits)
            if k == 0 and u.name == "<module>" and f in module_head:
                rel += 0.5  # where imports live: new code usually needs one
            rels.append(rel)
        out[f] = rels
    return Focus(out)


def _bm25(repo_map: RepoMap, tokens: list[str], ids: np.ndarray) -> np.ndarray:
    """Unit BM25 scaled so the best unit among *ids* is 1."""
    known = [t for t in tokens if t in repo_map.unit_index.vocab_dict]
    out = np.zeros(len(repo_map.unit_file))
    if known and ids.size:
        out = np.asarray(repo_map.unit_index.get_scores(known), dtype=float)
        top = float(out[ids].max())
        if top > 0:
            out /= top
    return out


def _frame_lines(repo_map: RepoMap, sig: IssueSignals) -> dict[int, list[tuple[int, float]]]:
    out: dict[int, list[tuple[int, float]]] = {}
    frames = [(f, hits) for f in sig.frames if (hits := match_path(repo_map, f.path))]
    for j, (frame, hits) in enumerate(frames):
        depth = 0.5 + 0.5 * (j + 1) / len(frames)
        for i, strength in hits:
            out.setdefault(i, []).append((frame.line, FRAME_LINE * depth * strength))
    return out


def called_names(repo_map: RepoMap, f: int, start: int, end: int) -> set[str]:
    lines = repo_map.entries[f].text.splitlines()[start - 1 : end]
    return set(CALL_RE.findall("\n".join(lines)))


def callee_units(
    repo_map: RepoMap, best: list[tuple[int, int, int]], skip: set[str], limit: int = 8
) -> list[tuple[int, int]]:
    """(file, unit index) of functions the *best* units call that are defined in at most
    two files of the repository: the code a fix most often has to follow into."""
    out: list[tuple[int, int]] = []
    for f, start, end in best:
        for name in sorted(called_names(repo_map, f, start, end) - skip):
            files = repo_map.defs.get(name, [])
            if not files or len(files) > 2:
                continue
            for g in files:
                if repo_map.entries[g].kind != "source":
                    continue
                for k, u in enumerate(repo_map.units[g]):
                    if u.name.rpartition(".")[2] == name and (g, k) not in out:
                        out.append((g, k))
            if len(out) >= limit:
                return out
    return out


def names_in(repo_map: RepoMap, f: int, start: int, end: int) -> set[str]:
    """Every name lines *start*..*end* spell: what they call or pass around
    (``f = _dataset_concat`` … ``f(objs)``)."""
    lines = repo_map.entries[f].text.splitlines()[start - 1 : end]
    return set(NAME_RE.findall("\n".join(lines)))


def calls_any(repo_map: RepoMap, f: int, start: int, end: int, names: set[str]) -> bool:
    return bool(names) and not names.isdisjoint(called_names(repo_map, f, start, end))


def piece_scores(
    repo_map: RepoMap, lines: list[str], spans: list[tuple[int, int]], words: set[str]
) -> list[float]:
    """How well each piece of a long unit matches the issue's words (BM25 tokens), each word
    weighted by how few pieces hold it (in-unit IDF); the best piece scores 1."""
    found = [set(repo_map.tokens("\n".join(lines[s - 1 : e]))) & words for s, e in spans]
    df: dict[str, int] = {}
    for toks in found:
        for t in toks:
            df[t] = df.get(t, 0) + 1
    scores = [sum(math.log(1 + len(spans) / df[t]) for t in toks) for toks in found]
    top = max(scores, default=0.0) or 1.0
    return [x / top for x in scores]
