"""The prompt library a job uses: the built-in templates, a repository's overrides that pass
vetting (bot/prompts/vetting.py), and rendering with the override or the built-in."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.core.safe_yaml import brief
from bot.prompts.templates import (
    OVERRIDE_DIR,
    PROMPTS_DIR,
    PromptError,
    PromptTemplate,
    RenderedPrompt,
    load_builtin_templates,
    parse_template,
    render_template,
)
from bot.prompts.vetting import check_rendered


def _override_id(key: str) -> str:
    return key.rsplit("/", 1)[-1].removesuffix(".md.j2")


class PromptLibrary:
    """Built-in templates plus a repository's validated overrides."""

    def __init__(self, overrides: Mapping[str, str] | None = None, directory: Path | None = None):
        self.builtin = load_builtin_templates(directory or PROMPTS_DIR)
        self.overrides: dict[str, PromptTemplate] = {}
        self._problems: dict[str, str] = {}  # template id -> why its override is not used
        for key, text in (overrides or {}).items():
            tid = _override_id(key)
            try:
                self.overrides[tid] = self._validate_override(tid, text)
            except PromptError as exc:
                self._problems[tid] = self._fallback_message(tid, str(exc))

    @property
    def problems(self) -> list[str]:
        """Messages for the status comment, one per override that is not used."""
        return list(self._problems.values())

    def _validate_override(self, tid: str, text: str) -> PromptTemplate:
        if tid not in self.builtin:
            raise PromptError(f"there is no built-in template {brief(tid)} to override")
        override, builtin = parse_template(text, source="override"), self.builtin[tid]
        if override.id != tid:
            raise PromptError(f"`id` is {brief(override.id)}, the file name says {brief(tid)}")
        if override.task_type != builtin.task_type:
            raise PromptError(f"`task_type` must stay {builtin.task_type!r}")
        # An override written before the built-in gained an optional parameter (`criteria`)
        # keeps working without it: it declares the rest exactly and is rendered without it.
        declared = {n: s for n, s in builtin.params.items() if n in override.params}
        left_out = [n for n, s in builtin.params.items() if n not in declared and not s.optional]
        if override.params != declared or left_out:
            expected = ", ".join(
                f"{n}: {s.kind}{'?' if s.optional else ''}" for n, s in builtin.params.items()
            )
            raise PromptError(
                f"`params` must be the built-in's ({expected}); optional ones may be left out"
            )

        check_rendered(override, builtin)
        return override

    def _fallback_message(self, tid: str, reason: str) -> str:
        builtin = self.builtin.get(tid)
        used = f"the built-in `{tid}` v{builtin.version} was used" if builtin else "ignored"
        return f"Prompt override `{OVERRIDE_DIR}/{tid}.md.j2` was not used ({reason}); {used}."

    def template(self, template_id: str) -> PromptTemplate:
        """The template `render` would use (for plan previews: id and version)."""
        if template_id not in self.builtin:
            raise PromptError(f"unknown prompt template {template_id!r}")
        return self.overrides.get(template_id, self.builtin[template_id])

    def render(self, template_id: str, params: Mapping[str, Any]) -> RenderedPrompt:
        """Render the override if valid, else the built-in; bad params raise PromptError."""
        chosen = self.template(template_id)
        problem = self._problems.get(template_id)
        if chosen.source == "override":
            try:
                return render_template(chosen, declared_only(chosen, params))
            except PromptError as exc:  # fails only on real data: still fall back
                problem = self._fallback_message(template_id, str(exc))
        rendered = render_template(self.builtin[template_id], params)
        return dataclasses.replace(rendered, problem=problem)


def declared_only(template: PromptTemplate, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a template declares (an override may leave optional ones out)."""
    return {name: value for name, value in params.items() if name in template.params}


def render_prompt(
    template_id: str, params: Mapping[str, Any], overrides: Mapping[str, str] | None = None
) -> RenderedPrompt:
    return PromptLibrary(overrides).render(template_id, params)
