"""The Jinja environment of the server's own pages (`bot/web/templates/`, shipped in the
package): `*.html.j2` are autoescaped, `*.txt.j2` are plain text for `curl`."""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`\n]+)`")


def inline_code(text: str) -> Markup:
    """Markdown's `code` spans of the App's own messages as <code>, everything escaped."""
    # Safe: the text is escaped first; only the <code> tags added here are markup.
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))  # noqa: S704


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,  # a misspelt name fails the test, not the page silently
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["code"] = inline_code
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
