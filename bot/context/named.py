"""The files of a repository that an issue or a task names: paths, dotted modules, symbols.

`bot.core.mentions` reads the names from the text; this resolves them against the repository
map. Only confident answers count, since packing shows these files before any ranked one:

- a path: the file at that path, else the one file whose path ends with it (of several,
  the one nearest the root, if only one); a bare file name (`test_cli.py`) only a file at
  the root or the only file of that name that is code or documentation (`pyproject.toml` or
  `conf.py` in an issue is more often the reporter's own than one deep in the repository);
- a dotted module: `flask.cli` → `src/flask/cli.py`; `ascii.qdp` → `astropy/io/ascii/qdp.py`;
  a one-part module only from a package root (`json.dumps` does not name
  `src/flask/json/__init__.py`); `flask.cli.FlaskGroup` and `flask.Flask` → the file that
  defines the name, following a package's re-exports; `Flask.run` → the file defining that
  method;
- a symbol: the file that defines it as a class or function, when at most two files do;
  tests count only for a name that is one (`test_routes`, `TestRoutes`), so a config value
  a test fixture assigns does not name the fixture.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.mentions import Mentions, extract_mentions
from bot.core.repo_config import is_app_file

from .repomap import RepoMap
from .textutil import DOC_EXTS, SOURCE_EXTS, file_ext

MAX_DEFINERS = 2  # a name more files define than this names none of them


def named_files(repo_map: RepoMap, texts: Iterable[str], limit: int = 8) -> list[str]:
    """Paths of the files *texts* name, in order: each text's paths, then its modules, then
    its symbols; the first text first (a task's own words before its issue's)."""
    found: dict[int, None] = {}
    for text in texts:
        for i in resolve_mentions(repo_map, extract_mentions(text)):
            found.setdefault(i, None)
    return [repo_map.paths[i] for i in found][:limit]


def task_named_files(
    repo_map: RepoMap, task: str, issue: str, other_tasks: Sequence[str] = (), limit: int = 8
) -> list[str]:
    """The files a task names, then those its issue names that no other task of the issue
    names (they are that task's to edit, and would crowd this one's code out)."""
    own = named_files(repo_map, [task], limit)
    theirs = set(named_files(repo_map, other_tasks, limit=10**6)) - set(own)
    shared = [p for p in named_files(repo_map, [issue], limit=10**6) if p not in theirs]
    return list(dict.fromkeys([*own, *shared]))[:limit]


def resolve_mentions(repo_map: RepoMap, mentions: Mentions) -> list[int]:
    """Indices of the files *mentions* name, never the app's own configuration or overrides."""
    out: dict[int, None] = {}
    for path in mentions.paths:
        out.update(dict.fromkeys(_path(repo_map, path)))
    for dotted in mentions.modules:
        out.update(dict.fromkeys(_dotted(repo_map, dotted)))
    for name in mentions.symbols:
        out.update(dict.fromkeys(_symbol(repo_map, name)))
    return [i for i in out if not is_app_file(repo_map.paths[i])]


def _path(repo_map: RepoMap, mention: str) -> list[int]:
    if mention in repo_map.index_of:
        return [repo_map.index_of[mention]]
    name = mention.rsplit("/", 1)[-1]
    hits = [
        i for i in repo_map.basenames.get(name, []) if repo_map.paths[i].endswith(f"/{mention}")
    ]
    if "/" not in mention:  # not at the root (checked above): only a unique code or doc file
        prose_or_code = file_ext(mention) in SOURCE_EXTS | DOC_EXTS
        return hits if len(hits) == 1 and prose_or_code else []
    if len(hits) > 1:
        depth = min(repo_map.paths[i].count("/") for i in hits)
        hits = [i for i in hits if repo_map.paths[i].count("/") == depth]
    return hits if len(hits) == 1 else []


def _anchored(repo_map: RepoMap, f: int, dotted: str) -> bool:
    """*dotted* is the file's module name from a package root, not the tail of a deeper one:
    `flask.cli` is `src/flask/cli.py`, but `json` is not `src/flask/json/__init__.py`."""
    prefix = repo_map.entries[f].module[: -len(dotted)].rstrip(".")
    return not prefix or f"{prefix.replace('.', '/')}/__init__.py" not in repo_map.index_of


def _dotted(repo_map: RepoMap, dotted: str) -> list[int]:
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        module = ".".join(parts[:k])
        files = repo_map.resolve_module(module)
        if k == 1:  # `json` alone may be the tail of `flask.json`: only from a package root
            files = [f for f in files if _anchored(repo_map, f, module)]
        if not files:
            continue
        rest = parts[k:]
        if rest:  # module.attr: the file defining attr, through the package's imports
            names = [f for f in files if rest[0] in repo_map.entries[f].outline.names]
            files = names or [
                t for f in files for t in repo_map.imports[f] if rest[0] in _names(repo_map, t)
            ]
        return files if 0 < len(files) <= MAX_DEFINERS else []
    for k in range(len(parts) - 1):  # Class.method, Class.Inner.method
        files = repo_map.qualnames.get(".".join(parts[k:]), [])
        if files:
            return _definers(repo_map, files)
    return []


def _names(repo_map: RepoMap, f: int) -> set[str]:
    return repo_map.entries[f].outline.names


def _symbol(repo_map: RepoMap, name: str) -> list[int]:
    files = [
        f
        for f in repo_map.defs.get(name, [])
        if any(s.name == name for s in repo_map.entries[f].outline.symbols)
    ]
    return _definers(repo_map, files, tests=name.lower().startswith("test"))


def _definers(repo_map: RepoMap, files: list[int], tests: bool = False) -> list[int]:
    chosen = [f for f in dict.fromkeys(files) if tests or repo_map.entries[f].kind != "test"]
    return chosen if 0 < len(chosen) <= MAX_DEFINERS else []
