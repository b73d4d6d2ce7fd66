"""Repository map: the text files of one tree with their outlines and search indices.

Built from a mapping of path → text, a local checkout, or a git object database at a commit
(``git ls-tree -r`` + ``git cat-file --batch``, no work tree needed). A map built from git is
pickled per commit under a cache directory, so a warm map loads in well under a second.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from bot.git.env import BASE_CONFIG, git_environment

from .parse import Outline, module_name, outline_python, outline_tree_sitter
from .textutil import CompoundSplitter, code_tokens, file_ext, file_kind, path_tokens
from .units import Unit, file_units

log = logging.getLogger(__name__)

MAP_VERSION = 7  # bump when FileEntry or the indices change shape
MAX_FILE_BYTES = 400_000
SKIP_EXTS = frozenset(
    """png jpg jpeg gif bmp ico icns webp svg pdf eps ps psd tif tiff mp3 mp4 wav ogg avi mov
    zip gz tgz bz2 xz zst 7z tar jar war whl egg so dll dylib a o obj lib exe bin class pyc
    pyo woff woff2 ttf otf eot fits fit fts hdf5 h5 nc npy npz pkl pickle db sqlite sqlite3
    mo po pot dat hdr csv tsv parquet feather avro ipynb lock map min.js sav mat xlsx xls
    docx pptx""".split()
)
SKIP_DIRS = frozenset(
    ".git .hg .svn node_modules .venv venv __pycache__ .tox .nox .mypy_cache .pytest_cache "
    ".ruff_cache dist build .eggs .cache .idea .vscode".split()
)


@dataclass(slots=True)
class FileEntry:
    path: str
    text: str
    kind: str  # source | test | doc | other
    module: str  # dotted module name for Python files, else ""
    outline: Outline = field(default_factory=Outline)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def _wanted(path: str, size: int | None = None) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".min.js") or file_ext(path) in SKIP_EXTS:
        return False
    if any(part in SKIP_DIRS for part in path.split("/")[:-1]):
        return False
    return size is None or size <= MAX_FILE_BYTES


def _entry(path: str, text: str) -> FileEntry:
    ext = file_ext(path)
    if ext in ("py", "pyi"):
        return FileEntry(path, text, file_kind(path), module_name(path), outline_python(path, text))
    return FileEntry(path, text, file_kind(path), "", outline_tree_sitter(ext, text))


class RepoMap:
    """Files, outlines, import graph and BM25 indices of one repository tree."""

    def __init__(self, files: Iterable[FileEntry]) -> None:
        self.entries: list[FileEntry] = sorted(files, key=lambda e: e.path)
        self.paths: list[str] = [e.path for e in self.entries]
        self.index_of: dict[str, int] = {p: i for i, p in enumerate(self.paths)}
        self.modules: dict[str, list[int]] = defaultdict(list)  # dotted suffix → files
        self.defs: dict[str, list[int]] = defaultdict(list)  # defined name → files
        self.qualnames: dict[str, list[int]] = defaultdict(list)  # Class.method → files
        self.basenames: dict[str, list[int]] = defaultdict(list)  # file name → files
        for i, e in enumerate(self.entries):
            self.basenames[e.path.rsplit("/", 1)[-1]].append(i)
            for sym in e.outline.symbols:
                if sym.parent:
                    self.qualnames[sym.qualname].append(i)
            if e.module:
                parts = e.module.split(".")
                for k in range(len(parts)):
                    self.modules[".".join(parts[k:])].append(i)
            for name in e.outline.names:
                self.defs[name].append(i)
        self.imports: list[list[int]] = [self._resolve_imports(e) for e in self.entries]
        self.importers: list[list[int]] = [[] for _ in self.entries]
        for i, targets in enumerate(self.imports):
            for t in targets:
                self.importers[t].append(i)
        self.splitter = CompoundSplitter.from_texts([e.text for e in self.entries])
        self.content_index = _bm25([self.tokens(e.text) for e in self.entries])
        self.meta_index = _bm25([_meta_tokens(e, self.splitter) for e in self.entries])
        self.units: list[list[Unit]] = []
        unit_docs: list[list[str]] = []
        unit_file: list[int] = []
        for i, e in enumerate(self.entries):
            lines = e.text.splitlines()
            units = file_units(e.outline.symbols, lines)
            self.units.append(units)
            for u in units:
                unit_file.append(i)
                unit_docs.append(self.tokens("\n".join(lines[u.start - 1 : u.end]) + " " + u.name))
        self.unit_file = np.asarray(unit_file, dtype=np.int32)
        self.unit_index = _bm25(unit_docs)
        self._blob: tuple[str, list[int]] | None = None

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_blob"] = None  # rebuilt on demand, cheaper than storing it
        return state

    def blob(self) -> tuple[str, list[int]]:
        """All texts lower-cased in one string, and each file's start offset in it."""
        if self._blob is None:
            texts = [e.text.lower() for e in self.entries]  # lower() may change lengths
            starts, pos = [], 0
            for t in texts:
                starts.append(pos)
                pos += len(t) + 1
            self._blob = ("\x00".join(texts), starts)
        return self._blob

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens of *text* as this map's indices were built (compounds split)."""
        return code_tokens(text, self.splitter)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_dir(cls, root: Path, paths: Iterable[str] | None = None) -> RepoMap:
        """The files under `root`, or only `paths` (relative, `/`-separated) of them."""
        files: dict[str, str] = {}
        for rel in _walk(root) if paths is None else paths:
            full = root / rel
            if full.is_symlink() or not full.is_file() or not _wanted(rel, full.stat().st_size):
                continue  # a tracked file deleted in the work tree, a submodule, a link
            text = _decode(full.read_bytes())
            if text is not None:
                files[rel] = text
        return build_repo_map(files)

    @classmethod
    def from_git(cls, git_dir: Path, commit: str, cache_dir: Path | None = None) -> RepoMap:
        cache = cache_file(cache_dir, commit) if cache_dir else None
        if cache is not None and cache.exists():
            try:
                loaded = _load(cache)
                if isinstance(loaded, RepoMap):
                    return loaded
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
                log.warning("ignoring unreadable repo map cache %s: %s", cache, exc)
        repo_map = build_repo_map(read_git_tree(git_dir, commit))
        if cache is not None:
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")  # two writers never share one
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                with tmp.open("wb") as fh:
                    pickle.dump(repo_map, fh, protocol=pickle.HIGHEST_PROTOCOL)
                tmp.replace(cache)
            except OSError as exc:  # a full disk costs the next caller a rebuild, no more
                log.warning("cannot write repo map cache %s: %s", cache, exc)
                tmp.unlink(missing_ok=True)
        return repo_map

    # -- lookups ------------------------------------------------------------------------
    def resolve_module(self, dotted: str) -> list[int]:
        """Files whose module name ends with *dotted* (``_pytest.python``, ``ascii.qdp``)."""
        return self.modules.get(dotted, [])

    def _resolve_imports(self, e: FileEntry) -> list[int]:
        found: set[int] = set()
        for name in e.outline.imports:
            parts = name.split(".")
            for k in range(len(parts), 0, -1):
                hits = self.modules.get(".".join(parts[:k]))
                if hits:
                    # Prefer the file that shares the longest directory prefix with e.
                    found.add(max(hits, key=lambda h: _common_prefix(self.paths[h], e.path)))
                    break
        found.discard(self.index_of.get(e.path, -1))
        return sorted(found)


def _load(cache: Path) -> object:
    # Millions of small objects, all kept: collecting cycles while they are made is wasted.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with cache.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache file
    finally:
        if collecting:
            gc.enable()


def cache_file(cache_dir: Path, commit: str) -> Path:
    """Where `from_git` keeps the map of `commit` under `cache_dir`."""
    return cache_dir / f"repomap-v{MAP_VERSION}-{commit}.pkl"


def _walk(root: Path) -> Iterable[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in filenames:
            yield Path(dirpath, name).relative_to(root).as_posix()


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


def _meta_tokens(e: FileEntry, splitter: CompoundSplitter) -> list[str]:
    """Path, symbol names and docstring: what a file says it is about."""
    toks = path_tokens(e.path, splitter) * 2
    for sym in e.outline.symbols:
        toks.extend(code_tokens(sym.name, splitter))
    toks.extend(code_tokens(e.outline.docstring, splitter))
    return toks


def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
    index = bm25s.BM25()
    index.index([doc or ["\x00"] for doc in corpus] or [["\x00"]], show_progress=False)
    return index


def _decode(data: bytes) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1") if data.isascii() else None


def build_repo_map(files: Mapping[str, str]) -> RepoMap:
    """Repository map of an in-memory tree (path → text); paths use ``/``."""
    return RepoMap(_entry(p, t) for p, t in files.items() if _wanted(p))


def read_git_tree(git_dir: Path, commit: str) -> dict[str, str]:
    """Text files of *commit* in *git_dir* (bare or not), read without a work tree."""
    git = ["git", "--git-dir", str(git_dir)]
    env = git_environment(BASE_CONFIG)  # the host's git configuration never applies
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "-l", "-z", commit], capture_output=True, check=False, env=env
    )
    if listing.returncode != 0:
        msg = listing.stderr.decode(errors="replace").strip()
        raise LookupError(f"cannot list {commit} in {git_dir}: {msg}")
    wanted: list[tuple[str, str]] = []
    for rec in listing.stdout.split(b"\x00"):
        if not rec:
            continue
        meta, _, raw_path = rec.partition(b"\t")
        mode, typ, sha, size = meta.split()
        path = raw_path.decode("utf-8", "replace")
        if typ != b"blob":  # submodules
            continue
        if not size.isdigit():  # object absent from a partial snapshot
            log.warning("skipping %s at %s: object %s is missing", path, commit, sha.decode())
        elif mode != b"120000" and _wanted(path, int(size)):
            wanted.append((sha.decode(), path))
    batch = subprocess.run(
        [*git, "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha, _ in wanted).encode(),
        capture_output=True,
        check=True,
        env=env,
    )
    out, pos = batch.stdout, 0
    files: dict[str, str] = {}
    for _, path in wanted:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if len(header) < 3:  # "<sha> missing"
            pos = nl + 1
            continue
        length = int(header[2])
        text = _decode(out[nl + 1 : nl + 1 + length])
        pos = nl + 1 + length + 1
        if text is not None:
            files[path] = text
    return files
