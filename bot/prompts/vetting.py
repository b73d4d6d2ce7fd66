"""Sample parameters for the prompt templates, and checking templates by rendering them.

`check_rendered` renders a template with `prompts/samples.yaml` (with and without optional
parameters) and fails if the prompt lost the edit format or the untrusted-data fence;
`PromptLibrary` uses it to vet repository overrides. `layout_problems` renders it the same
way and lists the Markdown its whitespace control broke (`bot.core.prompt_layout`: list
items run together, empty sections), each with the template line it most likely comes from.
`issuewright prompts check` runs both on every built-in template and, with `--overrides`, on a
repository's overrides; a layout defect fails the check but does not stop an override from
being used (the prompt still says what it should).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from bot.core.prompt_layout import layout_defects, source_line
from bot.core.sanitize import FENCE_TAG
from bot.prompts.templates import (
    PROMPTS_DIR,
    PromptError,
    PromptTemplate,
    render_template,
)

REQUIRED_MARKERS = ("<<<<<<< SEARCH", "SUMMARY:")  # every prompt must teach the edit format


@functools.lru_cache(maxsize=4)
def _samples(directory: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((directory / "samples.yaml").read_text(encoding="utf-8"))
    return {"by_name": data.get("by_name") or {}, "by_type": data["by_type"]}


def sample_params(
    template: PromptTemplate, *, optional: bool = True, directory: Path = PROMPTS_DIR
) -> dict[str, Any]:
    """Values from `prompts/samples.yaml`; with optional=False optional ones are left out."""
    samples = _samples(directory)
    return {
        name: copy.deepcopy(samples["by_name"].get(name, samples["by_type"][spec.kind]))
        for name, spec in template.params.items()
        if optional or not spec.optional
    }


def check_rendered(template: PromptTemplate, reference: PromptTemplate) -> None:
    """Render with sample data (with and without optionals); raise PromptError if broken."""
    for optional in (True, False):
        sample = sample_params(reference, optional=optional)
        text = render_template(
            template, {k: v for k, v in sample.items() if k in template.params}
        ).text
        kept = render_template(reference, sample_params(reference, optional=optional)).text
        for marker in (*REQUIRED_MARKERS, f"<{FENCE_TAG}"):
            if marker in kept and marker not in text:
                raise PromptError(f"the rendered prompt lost {marker!r}")


def layout_problems(template: PromptTemplate, reference: PromptTemplate) -> list[str]:
    """One line per layout defect of *template* rendered with sample data (with and without
    optional parameters), naming the template line when it can be found."""
    found: dict[str, None] = {}
    for optional in (True, False):
        sample = sample_params(reference, optional=optional)
        text = render_template(
            template, {k: v for k, v in sample.items() if k in template.params}
        ).text
        for defect in layout_defects(text):
            line = source_line(template.text, defect.anchor) if template.text else None
            where = f"line {line}" if line else f"rendered line {defect.line}"
            found.setdefault(f"{where}: {defect.kind}: {defect.text!r}", None)
    return list(found)
