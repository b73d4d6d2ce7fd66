"""What GitHub would act on in published text: a checker for tests, written from GitHub's
rules (not from `bot.core.publish`), so the neutraliser is tested against an outside view.

GitHub's mention and reference filters are ASCII and run on the rendered text: a mention is
`@` + a login character after a non-word character; an issue reference is `#` + digits,
optionally after `owner/repo`, or `GH-` + digits; an issue, PR or discussion URL is a
reference too; a closing keyword followed by any reference closes it; `![` is an image;
`<` + a letter, `/`, `!` or `?` opens HTML; a character reference can spell any of them.
"""

from __future__ import annotations

import re

_LIVE: dict[str, re.Pattern[str]] = {
    "mention": re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_-]+)?"),
    "reference": re.compile(r"(?:[\w.-]+/[\w.-]+)?#\d+|(?<![A-Za-z0-9_])gh-\d+", re.I),
    "issue url": re.compile(r"\S*/(?:issues|pulls?|discussions)/\d+", re.I),
    "html": re.compile(r"<[A-Za-z/!?][^>\s]*"),
    "entity": re.compile(r"&(?:#[0-9xX]+|[A-Za-z][A-Za-z0-9]*);"),
    "image": re.compile(r"!\["),
}
CLOSING = re.compile(
    r"(?<![A-Za-z0-9_])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s*"
    r"(?:[\w.-]+/[\w.-]+#\d+|#\d+|gh-\d+|https?://\S+/(?:issues|pull)/\d+)",
    re.I,
)


def live_markup(text: str) -> list[tuple[str, str]]:
    """(kind, text) of everything GitHub would turn into a mention, reference, closing
    keyword, image or HTML."""
    found = [(kind, m.group(0)) for kind, p in _LIVE.items() for m in p.finditer(text)]
    return found + [("closing", m.group(0)) for m in CLOSING.finditer(text)]
