"""Outline of one source file: its symbols, imports and docstring.

Python goes through :mod:`ast` (with an indentation-based fallback for files the running
interpreter cannot parse, e.g. Python 2); other languages through the tree-sitter grammars
bundled in ``tree_sitter_language_pack``. Line numbers are 1-based and inclusive.
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Symbol:
    name: str
    qualname: str
    kind: str  # "class" | "function" | "method"
    start: int  # first line, decorators included
    end: int
    header_end: int  # last line of the signature (the ``def``/``class`` line(s))
    parent: str = ""  # qualname of the enclosing class or function, "" at module level


@dataclass(slots=True)
class Outline:
    symbols: list[Symbol] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every name the file defines or assigns
    imports: list[str] = field(default_factory=list)  # absolute dotted names imported
    docstring: str = ""


def module_name(path: str) -> str:
    """``src/_pytest/python.py`` → ``src._pytest.python``; packages drop ``__init__``."""
    stem = path.rsplit(".", 1)[0] if path.endswith((".py", ".pyi", ".pyx")) else path
    parts = stem.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def outline_python(path: str, text: str) -> Outline:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _outline_by_indent(text)
    out = Outline(docstring=(ast.get_docstring(tree, clean=True) or "")[:2000])
    pkg = module_name(path).split(".")
    if not path.endswith("__init__.py"):
        pkg = pkg[:-1]
    _visit(tree.body, "", out, in_class=False)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.imports.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg[: len(pkg) - node.level + 1] if node.level > 1 else pkg
                base = ".".join([*up, base]) if base else ".".join(up)
            out.imports.extend(f"{base}.{a.name}" if base else a.name for a in node.names)
            if base:
                out.imports.append(base)
    return out


def _visit(body: list[ast.stmt], parent: str, out: Outline, *, in_class: bool) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            qual = f"{parent}.{node.name}" if parent else node.name
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            first_body = node.body[0].lineno if node.body else node.lineno
            header_end = max(node.lineno, first_body - 1)
            if isinstance(node, ast.ClassDef):
                kind = "class"
            else:
                kind = "method" if in_class else "function"
            end = node.end_lineno or node.lineno
            out.symbols.append(Symbol(node.name, qual, kind, start, end, header_end, parent))
            out.names.add(node.name)
            if isinstance(node, ast.ClassDef):
                _visit(node.body, qual, out, in_class=True)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        out.names.add(sub.id)
        elif isinstance(node, ast.If | ast.Try):
            _visit(
                node.body, parent, out, in_class=in_class
            )  # `if TYPE_CHECKING:` / `try: import …`


_DEF_RE = re.compile(r"^([ \t]*)(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)", re.M)


def _outline_by_indent(text: str) -> Outline:
    """Best-effort outline for Python the running interpreter cannot parse."""
    lines = text.splitlines()
    out = Outline()
    stack: list[tuple[int, str]] = []
    for m in _DEF_RE.finditer(text):
        indent = len(m.group(1).expandtabs())
        line = text.count("\n", 0, m.start()) + 1
        while stack and stack[-1][0] >= indent:
            stack.pop()
        end = line
        for j in range(line, len(lines)):
            s = lines[j]
            if s.strip() and len(s) - len(s.lstrip()) <= indent and not s.lstrip().startswith("#"):
                break
            if s.strip():
                end = j + 1
        parent = stack[-1][1] if stack else ""
        name = m.group(3)
        qual = f"{parent}.{name}" if parent else name
        kind = "class" if m.group(2) == "class" else ("method" if parent else "function")
        out.symbols.append(Symbol(name, qual, kind, line, end, line, parent))
        out.names.add(name)
        stack.append((indent, qual))
    return out


# tree-sitter grammar names by file extension (the ones worth outlining).
TS_LANGS = {
    "js": "javascript", "jsx": "javascript", "mjs": "javascript", "cjs": "javascript",
    "ts": "typescript", "tsx": "tsx", "go": "go", "rs": "rust", "java": "java", "rb": "ruby",
    "c": "c", "h": "c", "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "hpp": "cpp", "cs": "csharp",
    "php": "php", "kt": "kotlin", "scala": "scala", "swift": "swift", "lua": "lua",
}  # fmt: skip
_TS_CONTAINERS = ("class", "impl", "interface", "module", "namespace", "trait", "struct")


def outline_tree_sitter(ext: str, text: str) -> Outline:
    lang = TS_LANGS.get(ext)
    out = Outline()
    if lang is None:
        return out
    try:
        from tree_sitter_language_pack import get_parser

        tree = get_parser(lang).parse(text.encode("utf-8", "replace"))  # type: ignore[arg-type]
    except Exception as exc:  # a missing or broken grammar must not break the map
        log.debug("tree-sitter failed for %s: %s", ext, exc)
        return out
    _ts_visit(tree.root_node, "", out, 0)
    return out


def _ts_visit(node: object, parent: str, out: Outline, depth: int) -> None:
    if depth > 6:
        return
    for child in node.children:  # type: ignore[attr-defined]
        typ: str = child.type
        name_node = child.child_by_field_name("name")
        is_def = typ.endswith(("_declaration", "_definition", "_item", "_specifier"))
        if is_def and name_node is not None and name_node.text:
            name = name_node.text.decode("utf-8", "replace")
            if not IDENT_OK.match(name):
                _ts_visit(child, parent, out, depth + 1)
                continue
            qual = f"{parent}.{name}" if parent else name
            container = any(k in typ for k in _TS_CONTAINERS)
            kind = "class" if container else ("method" if parent else "function")
            start, end = child.start_point[0] + 1, child.end_point[0] + 1
            body = child.child_by_field_name("body")
            header_end = body.start_point[0] + 1 if body is not None else start
            out.symbols.append(Symbol(name, qual, kind, start, end, header_end, parent))
            out.names.add(name)
            _ts_visit(child, qual if container else parent, out, depth + 1)
        elif depth < 4:
            _ts_visit(child, parent, out, depth + 1)


IDENT_OK = re.compile(r"^[A-Za-z_$][\w$]*$")
