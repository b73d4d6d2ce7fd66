"""What a path or a dotted name in an issue points at in a repository map: the files a
path mention names (by its trailing components), and the files a dotted name (module,
`module.attr`, `Class.method`) resolves to. Ranking (`rank.py`) scores them; packing
(`focus.py`) finds a traceback's frames with them."""

from __future__ import annotations

import math

from .repomap import RepoMap

MAX_CLASS_DEFINERS = 3  # `Foo.bar` with no `bar` in `Foo`: the class, if few files define it
CLASS_ONLY = 0.5  # … named less surely than a method that exists


def match_path(repo_map: RepoMap, mention: str) -> list[tuple[int, float]]:
    """Files a path mention names, by the longest matching run of trailing components."""
    parts = [p for p in mention.split("/") if p and p != "."]
    if not parts:
        return []
    best, hits = 0, []
    for i in repo_map.basenames.get(parts[-1], []):
        cand = repo_map.paths[i].split("/")
        k = 0
        while k < min(len(cand), len(parts)) and cand[-1 - k] == parts[-1 - k]:
            k += 1
        if k > best:
            best, hits = k, [i]
        elif k == best:
            hits.append(i)
    if not hits:
        return []
    strength = 1.0 if best >= 2 or len(parts) == 1 else 0.5
    return [(i, strength / math.sqrt(len(hits))) for i in hits]


def resolve_dotted(repo_map: RepoMap, dotted: str) -> list[tuple[int, float]]:
    """Files a dotted name (module, module.attr, Class.method) points at."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        files = repo_map.resolve_module(".".join(parts[:k]))
        if not files:
            continue
        strength = 1.0 if k >= 2 else 0.3  # a bare top-level name is mostly API usage
        rest = parts[k:]
        if rest:
            defining = [f for f in files if rest[0] in repo_map.entries[f].outline.names]
            if not defining:  # re-exported: follow the imports of the package module
                defining = [
                    t
                    for f in files
                    for t in repo_map.imports[f]
                    if rest[0] in repo_map.entries[t].outline.names
                ]
            files = defining or files
        return [(f, strength / math.sqrt(len(files))) for f in files]
    for k in range(len(parts) - 1):
        files = repo_map.qualnames.get(".".join(parts[k:]), [])
        if files:
            return [(f, 1.0 / math.sqrt(len(files))) for f in files]
    # `RST.__init__() got an unexpected keyword`: the class lacks the method the issue
    # names (often the bug itself), so the file defining the class is meant.
    files = class_definers(repo_map, parts[-2]) if len(parts) >= 2 else []
    if 0 < len(files) <= MAX_CLASS_DEFINERS:
        return [(f, CLASS_ONLY / math.sqrt(len(files))) for f in files]
    return []


def class_definers(repo_map: RepoMap, name: str) -> list[int]:
    """Files outside the tests that define a class *name* at their top level."""
    return [
        f
        for f in repo_map.defs.get(name, [])
        if repo_map.entries[f].kind != "test"
        and any(
            s.name == name and s.kind == "class" and not s.parent
            for s in repo_map.entries[f].outline.symbols
        )
    ]


def name_only(hits: list[tuple[int, float]]) -> bool:
    """*hits* of :func:`match_path` matched on the file name alone (strength 0.5)."""
    return max(s for _, s in hits) * math.sqrt(len(hits)) < 0.99
