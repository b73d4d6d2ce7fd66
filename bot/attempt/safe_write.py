"""Safe application of a model's edits to a directory: path rules, content and syntax checks,
and an all-or-nothing write. Git is not involved here (see workspace.py), so `issuewright
apply` and the pipeline share exactly these rules.

`plan_answer` reads and validates everything without writing; `write_plan` then writes with
temporary files and renames, and restores the tree if anything fails part-way.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.core.edit_apply import FileChange, apply_edits, touched_paths
from bot.core.edits import EditProblem, FileEdit, parse_answer

DEFAULT_DENIED = (".github/workflows/",)
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


class WriteError(OSError):
    """Writing failed part-way; the tree was restored to what it was before."""


@dataclass(frozen=True)
class Plan:
    """Validated edits, ready to write. Nothing may be written unless `ok`."""

    changes: tuple[FileChange, ...] = ()
    problems: tuple[EditProblem, ...] = ()
    notes: tuple[str, ...] = ()
    summary: str | None = None
    original: dict[str, str | None] = field(default_factory=dict)
    final: dict[str, str | None] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- rules (pure)


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


# ---------------------------------------------------------------- reading and planning


def check_location(root: Path, path: str) -> str | None:
    """Why writing `root/path` on disk is unsafe (symlinks, non-directories), or None.

    A path the file system cannot even look up (a name too long, a loop) is refused like
    any other bad path, never raised: the model gets it back in the repair round. The reason
    names no folder of the server."""
    try:
        return _location_problem(root, path)
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL byte
        why = getattr(exc, "strerror", None) or "not a valid path"
        return f"the path cannot be used on disk ({why})"


def _location_problem(root: Path, path: str) -> str | None:
    current = root
    parts = path.split("/")
    for depth, part in enumerate(parts, start=1):
        current = current / part
        shown = "/".join(parts[:depth])
        if current.is_symlink():
            return f"{shown} is a symbolic link; writing through links is not allowed"
        if depth < len(parts) and current.exists() and not current.is_dir():
            return f"{shown} is a file, not a directory"
    if current.is_dir():
        return "the path is a directory"
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(current)]) != real_root:
        return "the path resolves outside the repository"
    return None


def plan_answer(
    root: Path,
    answer: str,
    *,
    denied_paths: Sequence[str] = DEFAULT_DENIED,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Plan:
    """Parse `answer` and check every rule against the tree at `root`, without writing."""
    parsed = parse_answer(answer)
    if not parsed.ok:
        return Plan(problems=parsed.problems, summary=parsed.summary)
    plan = plan_edits(root, parsed.edits, denied_paths=denied_paths, max_file_bytes=max_file_bytes)
    return replace(plan, summary=parsed.summary)


def plan_edits(
    root: Path,
    edits: Sequence[FileEdit],
    *,
    denied_paths: Sequence[str] = DEFAULT_DENIED,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Plan:
    line_of: dict[str, int] = {}
    for edit in reversed(edits):
        line_of[edit.path] = line_of[edit.new_path or edit.path] = edit.line
    problems = []
    for path in touched_paths(edits):
        reason = (
            check_path(path, denied_paths) or check_argv_safe(path) or check_location(root, path)
        )
        if reason:
            problems.append(EditProblem(path, reason, line_of[path]))
    if problems:
        return Plan(problems=tuple(problems))
    original: dict[str, str | None] = {}
    modes: dict[str, int] = {}
    for path in touched_paths(edits):
        target = root / path
        if not target.exists():
            original[path] = None
            continue
        data = target.read_bytes()
        modes[path] = target.stat().st_mode & 0o777
        try:
            if b"\x00" in data:
                raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
            original[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            reason = "the existing file is binary or not UTF-8; only text files can be edited"
            problems.append(EditProblem(path, reason, line_of[path]))
    if problems:
        return Plan(problems=tuple(problems))
    result = apply_edits(original, edits)
    problems = list(result.problems)
    for change in result.changes:
        if change.after is None:
            continue
        reason = check_content(change.after, max_file_bytes) or check_syntax(
            change.path, change.before, change.after
        )
        if reason:
            problems.append(EditProblem(change.path, reason, line_of.get(change.path)))
        if change.old_path and change.old_path in modes:
            modes[change.path] = modes[change.old_path]
    return Plan(result.changes, tuple(problems), result.notes, None, original, result.files, modes)


# ---------------------------------------------------------------- writing


def write_plan(root: Path, plan: Plan) -> None:
    """Write a validated plan all-or-nothing; on any error restore the tree and raise."""
    if not plan.ok:
        raise ValueError("refusing to write a plan with problems")
    writes = {p: t for p, t in plan.final.items() if t is not None and t != plan.original[p]}
    deletes = [p for p, t in plan.final.items() if t is None and plan.original[p] is not None]
    made_dirs: list[Path] = []
    temps: dict[str, str] = {}
    done: list[str] = []
    try:
        for path, text in writes.items():
            # Checked again right before writing: the tree may have changed since planning.
            if reason := check_location(root, path):
                raise WriteError(f"{path}: {reason}")
            parent = (root / path).parent
            for d in reversed([parent, *parent.parents]):
                if d.is_relative_to(root) and not d.exists():
                    d.mkdir()
                    made_dirs.append(d)
            fd, temps[path] = tempfile.mkstemp(dir=parent, prefix=".issuewright-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.chmod(temps[path], plan.modes.get(path, 0o644))
        for path in writes:
            os.replace(temps[path], root / path)
            del temps[path]
            done.append(path)
        for path in deletes:
            os.unlink(root / path)
            done.append(path)
    except BaseException as exc:
        _roll_back(root, plan, done, temps, made_dirs)
        if isinstance(exc, OSError):
            raise WriteError(f"writing failed and was rolled back: {exc}") from exc
        raise


def _roll_back(
    root: Path, plan: Plan, done: list[str], temps: dict[str, str], made_dirs: list[Path]
) -> None:
    for path in reversed(done):
        before = plan.original[path]
        target = root / path
        try:
            if before is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(before.encode("utf-8"))
                os.chmod(target, plan.modes.get(path, 0o644))
        except OSError:
            continue  # best effort: keep restoring the others
    for temp in temps.values():
        Path(temp).unlink(missing_ok=True)
    for d in reversed(made_dirs):
        try:
            d.rmdir()
        except OSError:
            continue
