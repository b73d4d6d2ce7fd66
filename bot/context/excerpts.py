"""Rendering what packing chose: a slice as `### path lines a-b` and its lines in a fence,
its cost in tokens, spans joined, and the README / CONTRIBUTING opening lines."""

from __future__ import annotations

from .repomap import RepoMap
from .textutil import estimate_tokens, file_ext


def render_slice(path: str, start: int, end: int, lines: list[str]) -> str:
    lang = {"py": "python", "pyi": "python"}.get(file_ext(path), file_ext(path))
    body = "\n".join(lines[start - 1 : end])
    return f"### {path} lines {start}-{end}\n```{lang}\n{body}\n```\n"


def spans_cost(repo_map: RepoMap, spans: list[tuple[int, int, int]]) -> int:
    """Tokens of the spans (file, start, end) rendered one by one."""
    total = 0
    lines: dict[int, list[str]] = {}
    for f, s, e in spans:
        if f not in lines:
            lines[f] = repo_map.entries[f].text.splitlines()
        total += estimate_tokens(render_slice(repo_map.paths[f], s, e, lines[f]))
    return total


def merge_spans(spans: list[tuple[int, int]], lines: list[str]) -> list[tuple[int, int]]:
    """Sort and join spans that overlap or are separated only by blank lines."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out:
            ps, pe = out[-1]
            gap = lines[pe : max(pe, s - 1)]
            if s <= pe + 1 or all(not g.strip() for g in gap):
                out[-1] = (ps, max(pe, e))
                continue
        out.append((s, e))
    return out


def clip(text: str, tokens: int) -> str:
    return text if estimate_tokens(text) <= tokens else text[: tokens * 4].rstrip() + "\n…"


def preamble(repo_map: RepoMap, tokens: int, shown: set[str]) -> list[tuple[str, int, int, str]]:
    """Opening lines of the README and CONTRIBUTING guide, within *tokens* together, unless
    the code context shows that file already."""
    out: list[tuple[str, int, int, str]] = []
    for stem in ("readme", "contributing"):
        path = next(
            (p for p in repo_map.paths if "/" not in p and p.lower().split(".")[0] == stem),
            None,
        )
        if path is None or path in shown or tokens <= 50:
            continue
        lines = repo_map.entries[repo_map.index_of[path]].text.splitlines()
        end, size = 0, 0
        while end < len(lines) and size + len(lines[end]) + 1 <= (tokens // 2) * 4:
            size += len(lines[end]) + 1
            end += 1
        if end:
            part = render_slice(path, 1, end, lines)
            out.append((path, 1, end, part))
            tokens -= estimate_tokens(part)
    return out
