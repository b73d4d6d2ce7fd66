"""What a file written from a model's answer may be, decided from its path and text alone
(pure): where it may go, what a command line could misread, size and encoding, and whether it
still parses in its language."""

from __future__ import annotations

import functools
import json
import os
import tomllib
from collections.abc import Sequence
from typing import Any

import yaml

from bot.core.policy import DEFAULT_PROTECTED_PATHS

DEFAULT_DENIED = DEFAULT_PROTECTED_PATHS  # the operator narrows or widens it (PROTECTED_PATHS)


DEFAULT_MAX_FILE_BYTES = 1_000_000


# File systems refuse longer names (ENAMETOOLONG), and a path near PATH_MAX (4096) leaves no
# room for the checkout's own folder; real repositories stay far below both.
MAX_NAME_BYTES = 255


MAX_PATH_BYTES = 1024


# Extensions parsed with tree-sitter; Python, JSON, YAML and TOML use their own parsers.
TREE_SITTER_LANGUAGES = {
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala", ".swift": "swift", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".lua": "lua", ".sh": "bash", ".bash": "bash", ".css": "css", ".scss": "scss",
    ".html": "html", ".htm": "html", ".vue": "vue", ".svelte": "svelte", ".dart": "dart",
    ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".hs": "haskell", ".jl": "julia",
    ".zig": "zig", ".tf": "hcl", ".hcl": "hcl", ".proto": "proto", ".xml": "xml",
}  # fmt: skip


def check_path(path: str, denied_prefixes: Sequence[str] = DEFAULT_DENIED) -> str | None:
    """Why `path` (relative, as the model wrote it) may not be written, or None."""
    if not path:
        return "empty path"
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in path):
        return "the path has control characters or is not valid UTF-8"
    size = len(path.encode("utf-8"))
    if size > MAX_PATH_BYTES:
        return f"the path is {size:,} bytes long; at most {MAX_PATH_BYTES:,} are allowed"
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return "absolute paths are not allowed"
    if "\\" in path:
        return "backslashes are not allowed in paths; use /"
    parts = path.split("/")
    if ".." in parts:
        return "'..' is not allowed in paths"
    if any(p in ("", ".") for p in parts):
        return "the path is not in plain form (empty or '.' component)"
    if any(len(p.encode("utf-8")) > MAX_NAME_BYTES for p in parts):
        return f"a name in the path is longer than {MAX_NAME_BYTES} bytes"
    if any(p.lower() == ".git" for p in parts):
        return "writing under .git/ is not allowed"
    lowered = path.lower()  # case-folded so .GitHub/Workflows cannot slip through
    for prefix in denied_prefixes:
        p = prefix.lower().rstrip("/")
        if lowered == p or lowered.startswith(p + "/"):
            return f"the path is denied by configuration ({prefix})"
    return None


def check_argv_safe(path: str) -> str | None:
    """Why `path` could be read as something other than a path on a command line, or None.
    The formatter gets paths after `--`, but some programs read `NAME=value` anywhere (make
    takes it as a variable assignment) and others options before `--` is honoured."""
    if path.startswith("-"):
        return "paths may not start with '-' (a command line would read it as an option)"
    if "=" in path:
        return "paths may not contain '=' (a command line could read it as an assignment)"
    return None


def check_content(text: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str | None:
    """Why new file content is refused (binary, not UTF-8, too large), or None."""
    if "\x00" in text:
        return "the content has NUL bytes; binary files are not allowed"
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return "the content is not valid UTF-8 text"
    if size > max_bytes:
        return f"the file would be {size:,} bytes, over the {max_bytes:,}-byte limit"
    return None


def syntax_error(path: str, text: str) -> str | None:
    """A parse error message if `text` does not parse as `path`'s language, else None.

    Files in languages without a parser here always pass.
    """
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix in (".py", ".pyi"):
            # compile (not only ast.parse) also rejects e.g. 'return' outside a function;
            # it never runs the code.
            compile(text, path, "exec", dont_inherit=True)
        elif suffix == ".json":
            json.loads(text)
        elif suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(text))
        elif suffix == ".toml":
            tomllib.loads(text)
        elif suffix in TREE_SITTER_LANGUAGES:
            return _tree_sitter_error(TREE_SITTER_LANGUAGES[suffix], text)
    except SyntaxError as exc:
        return f"Python syntax error at line {exc.lineno}: {exc.msg}"
    except json.JSONDecodeError as exc:
        return f"JSON error at line {exc.lineno}: {exc.msg}"
    except yaml.YAMLError as exc:
        return f"YAML error: {' '.join(str(exc).split())}"
    except tomllib.TOMLDecodeError as exc:
        return f"TOML error: {exc}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"does not parse: {type(exc).__name__}"
    return None


@functools.lru_cache(maxsize=64)
def _parser(language: str) -> Any:
    from tree_sitter_language_pack import get_parser  # heavy import, only when needed

    return get_parser(language)  # type: ignore[arg-type]


def _tree_sitter_error(language: str, text: str) -> str | None:
    root = _parser(language).parse(text.encode("utf-8")).root_node
    if not root.has_error:
        return None
    cursor, line = root.walk(), None
    while line is None:  # descend to the first ERROR or MISSING node to name its line
        node = cursor.node
        if node.is_error or node.is_missing:
            line = node.start_point[0] + 1
        elif not (node.has_error and cursor.goto_first_child()):
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    line = root.start_point[0] + 1
                    break
    return f"{language} syntax error near line {line}"


def check_syntax(path: str, before: str | None, after: str) -> str | None:
    """Refuse a file that parsed before and not after; a new file must parse."""
    error = syntax_error(path, after)
    if error is None or (before is not None and syntax_error(path, before) is not None):
        return None
    return f"{error} (the file would no longer parse)"
