"""`issuewright prompts check`: render every template (and a folder of overrides) with sample
data; a lost edit format or fence, run-together list items or an empty section fail it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.prompts.library import PromptLibrary
from bot.prompts.templates import TEMPLATE_IDS, PromptError, PromptTemplate
from bot.prompts.vetting import check_rendered, layout_problems


def check_templates(
    overrides: Mapping[str, str] | None = None, directory: Path | None = None
) -> list[str]:
    """Render every built-in (and given override) with sample data; return the problems."""
    return [line for ok, line in _check_lines(overrides, directory) if not ok]


def _check_lines(
    overrides: Mapping[str, str] | None, directory: Path | None
) -> list[tuple[bool, str]]:
    try:
        library = PromptLibrary(overrides, directory)
    except PromptError as exc:
        return [(False, f"error {exc}")]
    lines: list[tuple[bool, str]] = []
    for tid in TEMPLATE_IDS:
        builtin = library.builtin[tid]
        try:
            check_rendered(builtin, builtin)
            lines += _layout(f"{tid} v{builtin.version}", builtin, builtin)
        except PromptError as exc:
            lines.append((False, f"error {tid} v{builtin.version}: {exc}"))
        if tid in library.overrides:
            override = library.overrides[tid]
            lines += _layout(f"{tid} v{override.version} (override)", override, builtin)
    lines.extend((False, f"error {problem}") for problem in library.problems)
    return lines


def _layout(
    name: str, template: PromptTemplate, reference: PromptTemplate
) -> list[tuple[bool, str]]:
    """`ok NAME`, or one error line per layout defect of the rendered prompt."""
    problems = layout_problems(template, reference)
    return [(False, f"error {name} {p}") for p in problems] or [(True, f"ok {name}")]


def cli_prompts_check(overrides_dir: Path | None = None) -> int:
    """`issuewright prompts check [--repo DIR]`: one line per template; exit 0 or 1."""
    overrides: dict[str, str] = {}
    if overrides_dir is not None:
        overrides = {p.name: p.read_text(encoding="utf-8") for p in overrides_dir.glob("*.md.j2")}
    lines = _check_lines(overrides, None)
    for _ok, line in lines:
        print(line)
    return 0 if all(ok for ok, _ in lines) else 1
