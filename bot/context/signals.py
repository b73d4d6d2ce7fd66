"""What an issue names: paths, modules, symbols, traceback frames, messages, flags.

Pure text processing on untrusted input: nothing here reads the repository. Every regex is
linear (no nested quantifiers) so a hostile 64 KB body cannot stall the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textutil import DOC_EXTS, IDENT_RE, SOURCE_EXTS, STOPWORDS

_EXTS = "|".join(sorted(SOURCE_EXTS | DOC_EXTS | {"toml", "cfg", "ini", "yml", "yaml", "json"}))
PATH_RE = re.compile(rf"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.(?:{_EXTS}))(?![\w])")
URL_RE = re.compile(r"https?://\S+")
GITHUB_BLOB_RE = re.compile(r"github\.com/[^/\s]+/[^/\s]+/(?:blob|tree)/[^/\s]+/([^\s#?)]+)")
FRAME_RE = re.compile(r'File "([^"\n]+)", line (\d+)(?:, in ([\w<>.]+))?')
PYTEST_FRAME_RE = re.compile(r"^\s*([\w./\\-]+\.py):(\d+):(?: in ([\w<>.]+))?", re.M)
# IPython / Jupyter: ``File ~/src/pkg/mod.py:841, in Plot._plot(self)`` (IPython 8) and
# ``~/src/pkg/mod.py in _plot(self, pyplot)`` followed by ``--> 841`` lines (IPython 7).
IPYTHON_FRAME_RE = re.compile(
    r"^[ \t]*File [ \t]*([~/.\w][^\s:,\"]*\.py):(\d+)(?:, in ([\w<>.]+))?", re.M
)
IPYTHON7_FRAME_RE = re.compile(r"^[ \t]*([~/.\w][^\s:,\"]*\.py) in ([\w<>.]+)\(", re.M)
ARROW_LINE_RE = re.compile(r"^[ \t]*-+>[ \t]*(\d+)", re.M)
DOTTED_RE = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
FROM_IMPORT_RE = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([\w, \t]+)", re.M)
IMPORT_RE = re.compile(r"^\s*import\s+([\w.]+)", re.M)
FENCE_RE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)
INLINE_RE = re.compile(r"`([^`\n]{1,200})`")
FLAG_RE = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
HYPHEN_OPT_RE = re.compile(r"(?<![\w-])([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)+)(?![\w.-])")
ERROR_LINE_RE = re.compile(
    r"^\s*(?:[\w.]*(?:Error|Exception|Warning|Exit)|WARNING|ERROR|CRITICAL|FAILED)\b"
    r"(?:\s*\[[\w-]+\])?:\s*(.{8,300})$",
    re.M,
)
PYTEST_E_RE = re.compile(r"^E {2,}(.{8,300})$", re.M)
QUOTED_RE = re.compile(r"(?<!\w)\"([^\"\n]{12,200})\"(?!\w)|(?<!\w)'([^'\n]{12,200})'(?!\w)")
WORD_RE = re.compile(r"[A-Za-z][A-Za-z']+")
PHRASE_RE = re.compile(r"[A-Za-z][A-Za-z']*(?: [A-Za-z][A-Za-z']*)*")  # words one space apart


NOISE_LINE_RE = re.compile(
    r"^\s*(?:[\w.\[\]-]+\s*(?::|==|>=|<=|\s)\s*v?\d+(?:\.\w+)+\S*"  # name: 1.2.3
    r"|[\w.-]+\s*:\s*None|[\w.-]+\s+\d+(?:\.\w+)+\s+\S+)\s*$",  # pip list rows
    re.M,
)


def strip_noise(text: str) -> str:
    """Drop environment dumps (``numpy: 1.19.0``, pip list rows): they name every package."""
    return NOISE_LINE_RE.sub("", text)


@dataclass(slots=True)
class Frame:
    path: str
    line: int
    func: str


@dataclass(slots=True)
class IssueSignals:
    paths: list[str] = field(default_factory=list)
    dotted: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    # identifier → weight: 1.0 in code (fences, backticks, tracebacks), less in prose
    identifiers: dict[str, float] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    literals: list[str] = field(default_factory=list)  # CLI flags and hyphenated options
    code: str = ""


def _is_code_word(word: str) -> bool:
    """snake_case, CamelCase, dunder or mixed words look like code even in prose."""
    inner = word.strip("_")
    return "_" in inner or (any(c.isupper() for c in inner[1:]) and any(c.islower() for c in inner))


def extract_signals(text: str) -> IssueSignals:
    sig = IssueSignals()
    fences = FENCE_RE.findall(text)
    inline = INLINE_RE.findall(FENCE_RE.sub(" ", text))
    sig.code = "\n".join([*fences, *inline])

    sig.frames = _frames(text)

    paths = [m.group(1) for m in GITHUB_BLOB_RE.finditer(text)]
    no_urls = URL_RE.sub(" ", text)
    paths += [m.group(1) for m in PATH_RE.finditer(no_urls)]
    sig.paths = _unique(re.sub(r"^(?:\.\.?/)+", "", _slashes(p)) for p in paths)

    dotted: list[str] = []
    for m in FROM_IMPORT_RE.finditer(sig.code or no_urls):
        base = m.group(1).strip(".")
        names = [n.strip() for n in m.group(2).split(",") if n.strip()]
        dotted += [base, *(f"{base}.{n.split()[0]}" for n in names)]
    dotted += [m.group(1) for m in IMPORT_RE.finditer(sig.code)]
    path_set = set(sig.paths)
    for m in DOTTED_RE.finditer(no_urls):
        name = m.group(1)
        if name not in path_set and not any(p.endswith(name) for p in sig.paths):
            dotted.append(name)
    sig.dotted = _unique(d for d in dotted if d.split(".")[-1].lower() not in _EXTS.split("|"))

    idents: dict[str, float] = {}
    frame_text = " ".join(f.func for f in sig.frames)
    for word in IDENT_RE.findall(sig.code + " " + frame_text):
        if len(word) > 2 and word.lower() not in STOPWORDS:
            idents[word] = 1.0
    for word in IDENT_RE.findall(no_urls):
        if len(word) > 2 and word not in idents and word.lower() not in STOPWORDS:
            idents[word] = 0.7 if _is_code_word(word) else 0.3
    sig.identifiers = idents

    msgs = [m.group(1) for m in ERROR_LINE_RE.finditer(text)]
    msgs += [m.group(1) for m in PYTEST_E_RE.finditer(text)]
    msgs += [a or b for a, b in QUOTED_RE.findall(no_urls) if " " in (a or b)]
    sig.messages = _unique(m.strip() for m in msgs)[:30]

    literals = [f for f in FLAG_RE.findall(no_urls) if f.startswith("--") and len(f) > 3]
    literals += HYPHEN_OPT_RE.findall(sig.code)
    sig.literals = _unique(lit.split("=")[0] for lit in literals)[:20]
    return sig


def _frames(text: str) -> list[Frame]:
    """Traceback frames of every format, in the order they appear (the last is deepest)."""
    found: list[tuple[int, Frame]] = []
    for rx in (FRAME_RE, PYTEST_FRAME_RE, IPYTHON_FRAME_RE):
        for m in rx.finditer(text):
            frame = Frame(_slashes(m.group(1)), int(m.group(2)), m.group(3) or "")
            found.append((m.start(), frame))
    old_style = list(IPYTHON7_FRAME_RE.finditer(text))
    for k, m in enumerate(old_style):  # the line is the frame's ``---->`` line, if shown
        end = old_style[k + 1].start() if k + 1 < len(old_style) else len(text)
        arrow = ARROW_LINE_RE.search(text, m.end(), end)
        line = int(arrow.group(1)) if arrow else 0
        found.append((m.start(), Frame(_slashes(m.group(1)), line, m.group(2))))
    found.sort(key=lambda f: f[0])
    return [f for _, f in found]


def message_ngrams(message: str, n: int = 3) -> list[str]:
    """Word n-grams of a message, the parts that survive string formatting in the source.

    An n-gram never spans punctuation or a number, and is short: ``Right contains more
    items, first extra item: 52`` comes from ``"{} contains more items, first extra item:
    {}"``, where ``items first`` is nowhere and ``right contains more`` is not either."""
    grams: list[str] = []
    for run in PHRASE_RE.findall(message):
        words = [w.lower() for w in WORD_RE.findall(run)]
        grams += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if grams:
        return grams
    words = [w.lower() for w in WORD_RE.findall(message)]
    return [" ".join(words)] if 2 <= len(words) < n and len(" ".join(words)) >= 10 else []


def _slashes(path: str) -> str:
    """Windows and escaped paths (``C:\\src\\x.py``) to ``C:/src/x.py``."""
    return re.sub(r"[\\/]+", "/", path)


def _unique(items: object) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:  # type: ignore[attr-defined]
        if item:
            seen.setdefault(item, None)
    return list(seen)
