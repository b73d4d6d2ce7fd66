"""Load, validate and render the prompt templates in `prompts/` and repository overrides.

A template is `prompts/<id>.md.j2`: YAML front matter between `---` lines (`id`, `version`,
`task_type`, `params`: name → type) and a Jinja2 body. Types: `str`, `int`, `bool`, `list`,
`dict`, and `code` (a `str` of repository content or diffs, kept byte-exact so SEARCH parts can
match it: only secrets are redacted); a trailing `?` makes a parameter optional (None).

Every other string reaching a template (also inside lists and dicts) is cleaned first
(`bot.core.sanitize.clean_untrusted`: HTML comments, invisible characters, secrets), so even
an override that forgets the `untrusted` filter cannot put hidden text into a prompt.

Repositories override templates from `.github/issuewright/prompts/<id>.md.j2` (the caller
reads them and passes {id: text}). Overrides render in a budgeted sandbox (steps, time and
size: bot/prompts/sandbox.py); one that fails validation — front matter, syntax, parameters
different from the built-in's, a render error or limit, or a prompt that lost the edit format
or the untrusted-data fence — is not used: the built-in renders instead and `problem` says
why, for the status comment. Sample data and the
rendering check (also `issuewright prompts check`) are bot/prompts/vetting.py.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.core.repo_config import APP_DIR
from bot.core.safe_yaml import YamlRefused, brief, load_yaml
from bot.core.sanitize import clean_untrusted, fence_untrusted, redact_secrets
from bot.core.task_types import TASK_TYPES
from bot.prompts.sandbox import GuardedEnvironment, RenderLimit, render_limited

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
TEMPLATE_IDS: tuple[str, ...] = (*TASK_TYPES, "system", "fix_ci", "review_feedback", "retry")
OVERRIDE_DIR = f"{APP_DIR}prompts"
_KINDS: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "code": str,  # a str kept byte-exact apart from secret redaction
    "int": int,
    "bool": bool,
    "list": (list, tuple),
    "dict": Mapping,
}
Source = Literal["builtin", "override"]


class PromptError(Exception):
    """A template or its parameters are wrong; the message says which and why."""


@dataclass(frozen=True)
class ParamSpec:
    kind: str
    optional: bool


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    version: int
    task_type: str
    params: dict[str, ParamSpec]
    template: Template
    source: Source
    text: str = ""  # the file as written, so a check can name the line a defect comes from


@dataclass(frozen=True)
class RenderedPrompt:
    template_id: str
    version: int
    sha256: str  # of `text`, stored with each attempt
    text: str
    source: Source
    problem: str | None = None  # why a repository override was not used


def _fenced(value: object, lang: str = "") -> str:
    # A fence longer than any backtick run inside, so the content cannot end it early.
    text = "" if value is None else str(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def _untrusted(value: object, label: str = "untrusted") -> str:
    return "" if value is None else fence_untrusted(str(value), label)


def _with_title(body: object, title: object) -> str:
    # Tasks cut from a list already start with their title; a whole-issue task does not.
    body_text, title_text = str(body or ""), str(title or "")
    first_line = " ".join(body_text.split("\n", 1)[0].split())
    if title_text and not first_line.startswith(title_text.rstrip("…")):
        return f"{title_text}\n\n{body_text}" if body_text else title_text
    return body_text


def _environment(kind: type[SandboxedEnvironment] = SandboxedEnvironment) -> SandboxedEnvironment:
    env = kind(
        undefined=StrictUndefined,
        autoescape=False,  # prompts are Markdown, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["untrusted"] = _untrusted
    env.filters["fenced"] = _fenced
    env.filters["with_title"] = _with_title
    return env


_ENV = _environment()
_OVERRIDE_ENV = _environment(GuardedEnvironment)  # step, time and size budgets per render


def parse_template(text: str, source: Source = "builtin") -> PromptTemplate:
    """Parse front matter and compile the body; raise PromptError with the reason."""
    text = text.replace("\r\n", "\n")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not match:
        raise PromptError("no front matter: the file must start with a `---` block")
    try:  # repository text: size, depth and alias limits (bot.core.safe_yaml)
        meta = load_yaml(match.group(1))
    except YamlRefused as exc:
        raise PromptError(f"front matter {exc}") from None
    if not isinstance(meta, dict):
        raise PromptError("front matter must be a mapping")
    tid, version, task_type = meta.get("id"), meta.get("version"), meta.get("task_type")
    if not isinstance(tid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", tid):
        raise PromptError(f"`id` must be a lowercase name, got {brief(tid)}")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PromptError(f"`version` must be a positive integer, got {brief(version)}")
    if task_type not in (*TASK_TYPES, "any"):
        raise PromptError(f"`task_type` must be one of {', '.join(TASK_TYPES)} or any")
    raw_params = meta.get("params") or {}
    if not isinstance(raw_params, dict):
        raise PromptError("`params` must map parameter names to types")
    params: dict[str, ParamSpec] = {}
    for name, kind in raw_params.items():
        base = str(kind).removesuffix("?")
        if not isinstance(name, str) or not name.isidentifier() or base not in _KINDS:
            raise PromptError(
                f"parameter {brief(name)}: type {brief(kind)} is not one of {list(_KINDS)}"
            )
        params[name] = ParamSpec(base, str(kind).endswith("?"))
    body_line = text[: match.end()].count("\n")
    try:
        env = _OVERRIDE_ENV if source == "override" else _ENV
        compiled = env.from_string(text[match.end() :])
    except RenderLimit as exc:
        raise PromptError(str(exc)) from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line + body_line}" if isinstance(line, int) else ""
        raise PromptError(f"template syntax error{where}: {exc}") from None
    return PromptTemplate(tid, version, task_type, params, compiled, source, text)


@functools.lru_cache(maxsize=4)
def load_builtin_templates(directory: Path = PROMPTS_DIR) -> dict[str, PromptTemplate]:
    """All built-in templates by id; raise PromptError naming the first broken file."""
    templates: dict[str, PromptTemplate] = {}
    for path in sorted(directory.glob("*.md.j2")):
        try:
            parsed = parse_template(path.read_text(encoding="utf-8"))
        except PromptError as exc:
            raise PromptError(f"{path.name}: {exc}") from None
        if parsed.id != path.name.removesuffix(".md.j2"):
            raise PromptError(f"{path.name}: `id` is {parsed.id!r}, not the file name")
        templates[parsed.id] = parsed
    missing = [tid for tid in TEMPLATE_IDS if tid not in templates]
    if missing:
        raise PromptError(f"missing built-in templates in {directory}: {', '.join(missing)}")
    return templates


def validate_params(template: PromptTemplate, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check names and types, then clean every value; raise PromptError loudly."""
    unknown = sorted(set(params) - set(template.params))
    if unknown:
        raise PromptError(f"{template.id}: unknown parameters {unknown}")
    values: dict[str, Any] = {}
    for name, spec in template.params.items():
        value = params.get(name)
        if value is None:
            if not spec.optional:
                raise PromptError(f"{template.id}: missing required parameter {name!r}")
        elif (isinstance(value, bool) and spec.kind != "bool") or not isinstance(
            value, _KINDS[spec.kind]
        ):
            raise PromptError(
                f"{template.id}: parameter {name!r} must be {spec.kind}, got {type(value).__name__}"
            )
        if spec.kind == "code" and isinstance(value, str):
            values[name] = redact_secrets(value)  # byte-exact: SEARCH parts must match it
        else:
            values[name] = _clean(value)
    return values


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_untrusted(value)
    if isinstance(value, Mapping):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def render_template(template: PromptTemplate, params: Mapping[str, Any]) -> RenderedPrompt:
    """Validate and clean `params`, then render this one template; errors are PromptError."""
    values = validate_params(template, params)
    try:
        if template.source == "override":
            text = render_limited(template.template, values)
        else:
            text = template.template.render(values)
    except RenderLimit as exc:
        raise PromptError(f"{template.id}: rendering stopped: {exc}") from None
    except Exception as exc:  # a template is code from the repository: any error is its own
        raise PromptError(f"{template.id}: render failed: {type(exc).__name__}: {exc}") from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return RenderedPrompt(template.id, template.version, digest, text, template.source)
