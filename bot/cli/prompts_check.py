"""`issuewright prompts check`: render every template (and a folder of overrides) with sample
data; a lost edit format or fence, run-together list items or an empty section fail it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.cli.output import fail, print_json
from bot.prompts.library import PromptLibrary
from bot.prompts.templates import TEMPLATE_IDS, PromptError, PromptTemplate
from bot.prompts.vetting import check_rendered, layout_problems


@dataclass(frozen=True)
class Check:
    ok: bool
    template: str | None  # None: a problem of the library as a whole
    version: int | None = None
    override: bool = False
    problem: str | None = None

    @property
    def line(self) -> str:
        if self.template is None:
            return f"error {self.problem}"
        name = f"{self.template} v{self.version}" + (" (override)" if self.override else "")
        return f"error {name}: {self.problem}" if not self.ok else f"ok {name}"


def check_templates(
    overrides: Mapping[str, str] | None = None, directory: Path | None = None
) -> list[str]:
    """Render every built-in (and given override) with sample data; return the problems."""
    return [check.line for check in _checks(overrides, directory) if not check.ok]


def _checks(overrides: Mapping[str, str] | None, directory: Path | None) -> list[Check]:
    try:
        library = PromptLibrary(overrides, directory)
    except PromptError as exc:
        return [Check(False, None, problem=str(exc))]
    checks: list[Check] = []
    for tid in TEMPLATE_IDS:
        builtin = library.builtin[tid]
        try:
            check_rendered(builtin, builtin)
            checks += _layout(tid, builtin, builtin)
        except PromptError as exc:
            checks.append(Check(False, tid, builtin.version, problem=str(exc)))
        if tid in library.overrides:
            checks += _layout(tid, library.overrides[tid], builtin, override=True)
    checks.extend(Check(False, None, problem=problem) for problem in library.problems)
    return checks


def _layout(
    tid: str, template: PromptTemplate, reference: PromptTemplate, override: bool = False
) -> list[Check]:
    """Passed, or one failed check per layout defect of the rendered prompt."""
    failed = [
        Check(False, tid, template.version, override, problem)
        for problem in layout_problems(template, reference)
    ]
    return failed or [Check(True, tid, template.version, override)]


def cli_prompts_check(overrides_dir: Path | None = None, as_json: bool = False) -> int:
    """`issuewright prompts check [--overrides DIR]`: one line per template; exit 0 or 1."""
    overrides: dict[str, str] = {}
    if overrides_dir is not None:
        if not overrides_dir.is_dir():
            return fail(f"--overrides {overrides_dir}: not a directory")
        overrides = {
            p.name: p.read_text(encoding="utf-8", errors="replace")
            for p in overrides_dir.glob("*.md.j2")
        }
    checks = _checks(overrides, None)
    ok = all(check.ok for check in checks)
    if as_json:
        print_json({"ok": ok, "checks": checks})
    else:
        for check in checks:
            print(check.line)
    return 0 if ok else 1
