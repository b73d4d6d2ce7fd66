"""What an issue or a task names on purpose: file paths, dotted modules, code symbols. Pure.

Packing shows the files these resolve to before any ranked file (bot/context/named.py), so
a test file named for the tests or a changelog named for the docs is in the prompt of the
task that must edit it. Only what the author wrote in prose or inline code counts: fenced
and indented code blocks and HTML comments (tracebacks, logs, template hints) are data, and
the ranking reads them already; so are traceback frames (`File "x.py", line 3`) and
absolute paths, which point at the reporter's machine.

- paths: `tests/test_cli.py`, `CHANGES.rst`, `Makefile`, and the path of a GitHub file link;
- modules: dotted names, `flask.cli`, `flask.cli.FlaskGroup`, `Flask.run`;
- symbols: one identifier alone in inline code, `FlaskGroup`, `routes_command()`.

Each list keeps the order of first appearance, without repeats. Every regex is linear, so a
hostile 64 KB body costs milliseconds.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

# Extensions a named file is recognised by: programs, docs, configuration, templates.
FILE_EXTS = frozenset(
    """py pyi pyx pxd c h cc cpp cxx hpp hh cu go rs rb php js jsx mjs cjs ts tsx mts cts
    java kt kts scala swift cs m mm lua pl pm sh bash zsh fish ps1 r jl ex exs erl hs ml mli
    clj dart vue svelte sql groovy zig nim md rst txt adoc rdoc org toml cfg ini yml yaml
    json jsonc xml html htm css scss sass less j2 jinja jinja2 tmpl proto graphql tf hcl
    gradle cmake mk in env lock csv""".split()
)
# Extensions that never end a Python module's dotted name: `setup.py` is a file, while
# `flask.json` may be either and is tried as both.
FILE_ONLY_EXTS = frozenset(
    "py pyi pyx pxd rst md txt adoc toml cfg ini yml yaml js jsx ts tsx j2 lock".split()
)
# Files known by their name alone.
FILE_NAMES = frozenset(
    """Makefile makefile GNUmakefile Dockerfile Containerfile Jenkinsfile Procfile Gemfile
    Rakefile Vagrantfile Justfile justfile CODEOWNERS LICENSE NOTICE AUTHORS CHANGELOG
    CHANGES""".split()
)
MAX_MENTIONS = 50  # per kind: an issue that names more names none in particular

_EXT_ALT = "|".join(sorted(FILE_EXTS, key=lambda e: (-len(e), e)))
_PATH_RE = re.compile(
    rf"(?<![\w/.\\:-])((?:[\w.-]+/)*[\w-][\w.-]*\.(?:{_EXT_ALT}))(?![\w/-])"
    rf"|(?<![\w/.\\:-])((?:[\w.-]+/)*(?:{'|'.join(sorted(FILE_NAMES))}))(?![\w./-])"
)
_BLOB_RE = re.compile(r"github\.com/[^/\s]+/[^/\s]+/blob/[^/\s]+/([^\s#?)\]>\"']+)")
_URL_RE = re.compile(r"(?:https?|ftp|file)://\S+|www\.\S+")
_FRAME_RE = re.compile(r'File "[^"\n]*", line \d+')
_INLINE_RE = re.compile(r"(`+)([^`\n]{1,300}?)\1(?!`)")
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
_PROSE_DOTTED_RE = re.compile(rf"(?<![\w./\\-])({_DOTTED})(?![\w/-]|\.\w)")
_NAME_RE = re.compile(rf"^({_DOTTED}|[A-Za-z_]\w*)(?:\([^()]*\))?$")  # `name`, `name(...)`
_NOT_SYMBOLS = frozenset("None True False self cls null true false nil undefined this void".split())

_MD = MarkdownIt("commonmark")
_MD.disable(["inline", "text_join", "reference"])  # blocks only: fast on 64 KB bodies


@dataclass(frozen=True)
class Mentions:
    paths: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.paths or self.modules or self.symbols)


def prose(text: str) -> str:
    """*text* without its fenced and indented code blocks and HTML blocks (comments)."""
    lines = text.replace("\r\n", "\n").split("\n")
    hidden = [False] * len(lines)
    for token in _MD.parse("\n".join(lines)):
        if token.type in ("fence", "code_block", "html_block") and token.map:
            for i in range(token.map[0], min(token.map[1], len(lines))):
                hidden[i] = True
    return "\n".join("" if hide else line for line, hide in zip(lines, hidden, strict=True))


@functools.lru_cache(maxsize=32)  # a plan reads its issue once per task
def extract_mentions(text: str) -> Mentions:
    """The paths, dotted modules and symbols *text* names (see the module docstring)."""
    body = prose(text)
    found: list[tuple[int, str, str]] = [
        (m.start(), "path", m.group(1)) for m in _BLOB_RE.finditer(body)
    ]
    # Same length: positions stay comparable across the passes below.
    body = _FRAME_RE.sub(_blank, _URL_RE.sub(_blank, body))
    for m in _INLINE_RE.finditer(body):
        name = _NAME_RE.match(m.group(2).strip())
        if name is None:
            continue
        word = name.group(1)
        if "." not in word:
            if word not in _NOT_SYMBOLS and len(word) >= 3 and word not in FILE_NAMES:
                found.append((m.start(), "symbol", word))
        elif _maybe_module(word):
            found.append((m.start(), "module", word))
    # Backticks are not needed for a path or a dotted name: "see flask.cli" names it too.
    plain = body.replace("`", " ")
    for m in _PATH_RE.finditer(plain):
        found.append((m.start(), "path", _clean_path(m.group(1) or m.group(2))))
    for m in _PROSE_DOTTED_RE.finditer(plain):
        word = m.group(1)
        if _maybe_module(word) and min(len(p) for p in word.split(".")) >= 2:
            found.append((m.start(), "module", word))
    found.sort(key=lambda f: f[0])
    return Mentions(*(_unique(v for _, k, v in found if k == kind) for kind in _KINDS))


_KINDS = ("path", "module", "symbol")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _maybe_module(word: str) -> bool:
    return word.rsplit(".", 1)[-1] not in FILE_ONLY_EXTS


def _clean_path(path: str) -> str:
    return re.sub(r"^(?:\.\.?/)+", "", path)


def _unique(items: object) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:  # type: ignore[attr-defined]
        if item and len(seen) < MAX_MENTIONS:
            seen.setdefault(item, None)
    return tuple(seen)
