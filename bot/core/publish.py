"""Make text safe to publish under the App's name (PR title and body, commit messages,
comments, check runs). Pure functions, no I/O.

`bot/core/sanitize.py` cleans text going INTO a prompt; this module handles text going OUT
to GitHub, where different things are dangerous:

- `neutralize` is for third-party text (issue titles and bodies, model summaries, paths and
  error reasons taken from a model's answer) embedded in something the App publishes. GitHub
  acts on such text as if the App wrote it: `@org/team` notifies a whole team, `#12`,
  `owner/repo#12`, `GH-12` and issue/PR URLs add cross-references to unrelated threads,
  `Closes #2` in a PR body or a merged commit closes an issue the maintainer never approved,
  `![](…)` and `<img>` load a tracking pixel for every reader, and HTML hides content. Like
  Renovate's `sanitizeMarkdown`, a zero-width space after the trigger character keeps the
  text readable while GitHub no longer recognises it. It is inserted everywhere, code spans
  and blocks included: deciding what is code the way GitHub does is exactly where a
  sanitiser can be fooled (`\\`` is not a code span), and a stray invisible character in
  quoted code is the cheaper mistake.
- `publishable` is the last step for any text, the App's own included: configured secret
  values and anything shaped like a credential are replaced (the same rules as the logs),
  and the user-info part of every URL (`http://user:password@host`) is removed.
- `without_urls` is for error text (task errors, notes): the reason and what to do are for
  the comment; which endpoint or URL failed is for the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.sanitize import redact_known_secrets, strip_html_comments, strip_invisible

ZWSP = "\u200b"  # renders as nothing; GitHub's parsers see a character that breaks the pattern

# A character that is not an ASCII word character. GitHub's reference and mention filters
# are ASCII (Ruby), so `é@team` still mentions `@team`: Python's Unicode `\w` must not decide.
_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9_])"

# GitHub closes an issue for `KEYWORD[:] REF` in a PR body or a commit message reaching the
# default branch, any case. The keyword is broken when anything reference-like follows it
# (after spaces, a colon or emphasis), so "Fix login bug" stays intact for `git log --grep`.
_CLOSING = re.compile(
    _NOT_WORD_BEFORE + r"(?P<first>c)(?P<rest>lose[sd]?)(?![A-Za-z0-9_])"
    r"|" + _NOT_WORD_BEFORE + r"(?P<first2>f)(?P<rest2>ix(?:e[sd])?)(?![A-Za-z0-9_])"
    r"|" + _NOT_WORD_BEFORE + r"(?P<first3>r)(?P<rest3>esolve[sd]?)(?![A-Za-z0-9_])",
    re.IGNORECASE,
)
_REFERENCE_AHEAD = re.compile(
    r"[\s:*_~\[\]()<>\"'`]*"
    r"(?:#|gh-|\d|https?:|www\.|[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+#)",
    re.IGNORECASE,
)
_INERT: tuple[tuple[re.Pattern[str], str], ...] = (
    # HTML: `<` before a tag name, `/`, `!` (comments, doctype) or `?` no longer opens a tag.
    (re.compile(r"<(?=[A-Za-z/!?])"), "<" + ZWSP),
    # Character references: `&#64;team` would render as a live `@team`.
    (re.compile(r"&(?=#|[A-Za-z][A-Za-z0-9]*;)"), "&" + ZWSP),
    # Images (inline or by reference): `![` becomes a `!` and a plain link.
    (re.compile(r"!(?=\[)"), "!" + ZWSP),
    # Mentions of users and teams.
    (re.compile(_NOT_WORD_BEFORE + r"@(?=[A-Za-z0-9])"), "@" + ZWSP),
    # `#12`, `owner/repo#12`.
    (re.compile(r"#(?=\d)"), "#" + ZWSP),
    # `GH-12`.
    (re.compile(_NOT_WORD_BEFORE + r"(gh-)(?=\d)", re.IGNORECASE), r"\1" + ZWSP),
    # Issue, PR and discussion URLs on any host (GitHub Enterprise included).
    (re.compile(r"(/(?:issues|pulls?|discussions)/)(?=\d)", re.IGNORECASE), r"\1" + ZWSP),
)

# Everything after `scheme://` up to the last `@` before the host: user, password or token.
_URL_USERINFO = re.compile(
    r"(?P<scheme>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#]*@", re.IGNORECASE
)
_URL = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s<>\"'`]*", re.IGNORECASE)
URL_PLACEHOLDER = "[URL]"


def _break_closing_keyword(match: re.Match[str]) -> str:
    if not _REFERENCE_AHEAD.match(match.string, match.end()):
        return match.group(0)
    first = match.group("first") or match.group("first2") or match.group("first3")
    rest = match.group("rest") or match.group("rest2") or match.group("rest3")
    return first + ZWSP + rest


def neutralize(text: str) -> str:
    """Third-party text made inert for publication: hidden comments and invisible characters
    removed; no live mention, issue or PR reference, closing keyword, image or HTML left.
    Idempotent, and it never makes text longer than twice its length."""
    text = strip_invisible(strip_html_comments(text))
    text = _CLOSING.sub(_break_closing_keyword, text)
    for pattern, replacement in _INERT:
        text = pattern.sub(replacement, text)
    return text


def neutralize_line(text: str, limit: int) -> str:
    """`neutralize` for a one-line place (a PR title, a commit subject): whitespace runs become
    one space, then it is cut to `limit` characters (cut first, so nothing is cut in half)."""
    line = " ".join(strip_invisible(text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return neutralize(line)


def strip_url_userinfo(text: str) -> str:
    """`scheme://user:password@host/…` → `scheme://host/…`, wherever a URL appears."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme"), text)


def without_urls(text: str) -> str:
    """Every URL replaced by `[URL]`: error text says what failed, the log says where."""
    return _URL.sub(URL_PLACEHOLDER, text)


def publishable(text: str, secrets: Iterable[str] = ()) -> str:
    """The last step before any text leaves under the App's name: URL user-info removed,
    then the configured secret values and every credential pattern the logs scrub."""
    return redact_known_secrets(strip_url_userinfo(text), secrets)
