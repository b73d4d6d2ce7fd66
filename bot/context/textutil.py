"""Code-aware tokenization shared by the repository map, the ranking and the packing.

Identifiers are kept whole (``resolve_redirects``) *and* split into their parts
(``resolve``, ``redirects``; ``NDDataRef`` → ``nd``, ``data``, ``ref``) so that prose
in an issue matches code and code in an issue matches code exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache

IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

STOPWORDS = frozenset(
    """
    a an and are as at be but by for if in into is it no not of on or such that the their
    then there these they this to was will with we you i me my our your he she him her its
    do does did done have has had can could would should may might must shall been being
    when where which who whom what why how all any both each few more most other some so
    than too very just also only own same s t don now here after before above below up down
    out off over under again further once am were from about against between through during
    self cls def return import none true false class elif else while pass raise try except
    finally with lambda yield global nonlocal del assert async await print use using used
    get set new one two see like want way make made get got let var const function
    """.split()
)

# Extensions whose files are programs (ranked as source or tests); everything else that is
# text is documentation, configuration or data and gets a smaller prior in the ranking.
SOURCE_EXTS = frozenset(
    """py pyi pyx pxd c h cc cpp cxx hpp hh cu java kt kts scala go rs rb php js jsx mjs cjs
    ts tsx cs swift m mm lua pl pm sh bash zsh ps1 r jl ex exs erl hrl hs ml mli clj cljs
    dart vue svelte sql groovy f f90 zig nim""".split()
)
DOC_EXTS = frozenset("md rst txt adoc asciidoc textile rdoc org".split())
DOC_NAMES = frozenset(
    "readme contributing changes changelog history news authors license copying notice "
    "install usage faq".split()
)


@lru_cache(maxsize=200_000)
def split_identifier(word: str) -> tuple[str, ...]:
    """``resolve_redirects`` → (resolve, redirects); ``HTTPAdapter`` → (http, adapter)."""
    parts: list[str] = []
    for chunk in word.split("_"):
        parts.extend(p.lower() for p in _CAMEL_RE.findall(chunk))
    return tuple(p for p in parts if len(p) > 1 and not p.isdigit() and p not in STOPWORDS)


@lru_cache(maxsize=400_000)
def _word_tokens(word: str) -> tuple[str, ...]:
    low = word.lower().strip("_")
    out: list[str] = []
    if len(low) > 1 and low not in STOPWORDS and not low.isdigit():
        out.append(low)
    parts = split_identifier(word)
    if len(parts) > 1 or (parts and parts[0] != low):
        out.extend(p for p in parts if p != low)
    return tuple(out)


def code_tokens(text: str) -> list[str]:
    """Tokens of *text* for BM25: whole identifiers plus their snake/camel parts."""
    out: list[str] = []
    for word in IDENT_RE.findall(text):
        out.extend(_word_tokens(word))
    return out


def path_tokens(path: str) -> list[str]:
    """Tokens of a path: directories, file stem and their identifier parts."""
    return code_tokens(re.sub(r"[/.\-]", " ", path))


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters a token; no tokenizer download needed)."""
    return (len(text) + 3) // 4


def file_ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_test_path(path: str) -> bool:
    parts = path.lower().split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0]
    if any(p in ("test", "tests", "testing", "__tests__", "spec", "specs") for p in parts[:-1]):
        return True
    return (
        stem.startswith("test_")
        or stem.endswith(("_test", "_tests", ".test", ".spec", "_spec"))
        or stem in ("conftest", "tests", "test")
    )


DOC_DIRS = frozenset(
    "doc docs documentation example examples demo demos tutorial tutorials".split()
)


def file_kind(path: str) -> str:
    """One of ``source``, ``test``, ``doc``, ``other``."""
    ext = file_ext(path)
    stem = path.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    if any(part.lower() in DOC_DIRS for part in path.split("/")[:-1]):
        return "doc"  # example code under docs/ documents, it is not the implementation
    if ext in SOURCE_EXTS:
        return "test" if is_test_path(path) else "source"
    if ext in DOC_EXTS or stem in DOC_NAMES:
        return "doc"
    return "other"
