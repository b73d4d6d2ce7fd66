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


_KEEP_S = ("ss", "us", "is", "os", "as")


@lru_cache(maxsize=400_000)
def stem(word: str) -> str:
    """A light English stemmer (plural, -ed, -ing, final e) so prose meets code:
    ``fixtures``/``fixture`` → ``fixtur``; ``raised``/``raises``/``raising`` → ``rais``.
    Words of four letters or fewer stay as they are."""
    if len(word) <= 4 or not word.isalpha():
        return word
    w = word
    if w.endswith("ies") and len(w) > 5:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(_KEEP_S):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # mapped → map, running → run
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


@lru_cache(maxsize=400_000)
def _word_tokens(word: str) -> tuple[str, ...]:
    """Index forms of one word: the whole identifier lower-cased (stemmed when it is one
    plain word; ``resolve_redirects`` stays whole for exact matches) plus its stemmed parts."""
    low = word.lower().strip("_")
    out: list[str] = []
    parts = split_identifier(word)
    plain = len(parts) <= 1
    if len(low) > 1 and low not in STOPWORDS and not low.isdigit():
        out.append(stem(low) if plain else low)
    if not plain or (parts and parts[0] != low):
        out.extend(stem(p) for p in parts if p != low)
    return tuple(out)


def norm_word(word: str) -> str:
    """The index form of a whole word, for queries of single identifiers."""
    forms = _word_tokens(word)
    return forms[0] if forms else word.lower()


class CompoundSplitter:
    """Splits lower-case compounds (``showfixtures`` → show, fixtures; ``dataarray`` → data,
    array) into words the repository itself uses as separate identifier parts."""

    MIN_LEN = 7  # shorter words are rarely compounds of two 3+ letter words
    MIN_PART = 3

    def __init__(self, parts: frozenset[str], words: frozenset[str] = frozenset()) -> None:
        self.parts = parts  # parts of snake/camel identifiers: words, never split
        self.vocab = parts | words  # what a compound may be made of
        self._cache: dict[str, tuple[str, ...]] = {}
        self.words: dict[str, tuple[str, ...]] = {}  # word → its tokens (code_tokens)

    def __getstate__(self) -> dict[str, object]:
        return {"parts": self.parts, "vocab": self.vocab}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.parts = state["parts"]  # type: ignore[assignment]
        self.vocab = state["vocab"]  # type: ignore[assignment]
        self._cache = {}
        self.words = {}

    @classmethod
    def from_texts(cls, texts: list[str], min_files: int = 2) -> CompoundSplitter:
        """Vocabulary from identifiers found in at least *min_files* files: the parts of
        snake/camel names, and plain lower-case words (``fixtures``) of three letters or more."""
        parts: dict[str, int] = {}
        words: dict[str, int] = {}
        for text in texts:
            seen_parts: set[str] = set()
            seen_words: set[str] = set()
            for word in set(IDENT_RE.findall(text)):
                if word.isalpha() and word.islower():
                    if len(word) >= cls.MIN_PART:
                        seen_words.add(word)
                else:
                    seen_parts.update(p for p in split_identifier(word) if len(p) >= cls.MIN_PART)
            for p in seen_parts:
                parts[p] = parts.get(p, 0) + 1
            for w in seen_words:
                words[w] = words.get(w, 0) + 1
        for p, c in parts.items():
            words[p] = words.get(p, 0) + c
        return cls(
            frozenset(p for p, c in parts.items() if c >= min_files),
            frozenset(w for w, c in words.items() if c >= min_files),
        )

    def split(self, low: str) -> tuple[str, ...]:
        """Stemmed parts of *low* when it is two or three vocabulary words, else ()."""
        hit = self._cache.get(low)
        if hit is not None:
            return hit
        out: tuple[str, ...] = ()
        if len(low) >= self.MIN_LEN and low.isalpha():
            best = self._segment(low, 3)
            if best:
                out = tuple(stem(p) for p in best)
        self._cache[low] = out
        return out

    def _segment(self, word: str, depth: int) -> list[str] | None:
        """Fewest parts, then the longest first part: ``showfixtures`` → show + fixtures."""
        m = self.MIN_PART
        for n_parts in range(2, depth + 1):
            for i in range(len(word) - m, m - 1, -1):
                head, tail = word[:i], word[i:]
                if head not in self.vocab:
                    continue
                if n_parts == 2:
                    if tail in self.vocab:
                        return [head, tail]
                elif (rest := self._segment(tail, n_parts - 1)) is not None:
                    return [head, *rest]
        return None


def code_tokens(text: str, splitter: CompoundSplitter | None = None) -> list[str]:
    """Tokens of *text* for BM25: whole identifiers plus their snake/camel parts, lightly
    stemmed; with a *splitter*, also the words of lower-case compounds."""
    out: list[str] = []
    if splitter is None:
        for word in IDENT_RE.findall(text):
            out.extend(_word_tokens(word))
        return out
    cache = splitter.words
    for word in IDENT_RE.findall(text):
        forms = cache.get(word)
        if forms is None:
            forms = _word_tokens(word)
            if len(word) >= CompoundSplitter.MIN_LEN:
                for piece in split_identifier(word) or (word.lower(),):
                    if len(piece) >= CompoundSplitter.MIN_LEN and piece not in splitter.parts:
                        forms += splitter.split(piece)
            cache[word] = forms
        out.extend(forms)
    return out


def path_tokens(path: str, splitter: CompoundSplitter | None = None) -> list[str]:
    """Tokens of a path: directories, file stem and their identifier parts."""
    return code_tokens(re.sub(r"[/.\-]", " ", path), splitter)


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
