"""Clean untrusted text (issues, comments, CI logs) before it can reach a prompt.

Pure functions, no I/O. Three concerns, applied in this order by `clean_untrusted`:

1. hidden text: HTML comments (invisible on GitHub but present in the API's body) and
   invisible code points (zero-width, bidirectional controls, Unicode tag characters,
   variation-selector runs) can smuggle instructions a human reviewer never sees;
2. terminal noise: ANSI escapes and control characters from CI logs;
3. secrets: tokens, keys and `password=` style assignments are replaced by `[redacted]`
   so they never leave the process inside a prompt.

`fence_untrusted` then marks the cleaned text as data with a delimiter the text cannot close.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# Code blocks and inline code spans are visible on GitHub, so an HTML comment inside them is
# text people can read: keep it. Only comments in prose are hidden and get stripped. An
# unterminated `<!--` at the start of a line hides the rest of the document on GitHub (an
# HTML block runs to the end), so it is stripped to the end as well.
_FENCE_OR_CODE_OR_COMMENT = re.compile(
    r"(?P<fence>^[ \t]*+(?P<tick>`{3,}+|~{3,}+)[^\n]*+\n.*?(?:^[ \t]*(?P=tick)[`~]*[ \t]*$|\Z))"
    r"|(?P<span>(?<!`)(?P<bt>`++)[^\n]*?(?<!`)(?P=bt)(?!`))"
    r"|(?P<comment><!--(?:>|->|.*?-->|.*\Z))",
    re.DOTALL | re.MULTILINE,
)

# Invisible "format" code points (Unicode category Cf) and other characters that render as
# nothing: soft hyphen, Arabic/Syriac format marks, Mongolian vowel separator and free
# variation selectors, zero-width space/joiners, LRM/RLM, bidi embeddings and isolates,
# word joiner and invisible operators, BOM, interlinear annotation, Hangul fillers, combining
# grapheme joiner, and the astral format ranges including tag characters U+E0000–U+E007F.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0d\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
# U+FE0E/U+FE0F choose text or emoji presentation and belong in real emoji, but a run of
# them after one character can encode hidden bytes: keep at most one.
_SELECTOR_RUN = re.compile("([\ufe0e\ufe0f])[\ufe0e\ufe0f]+")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")

_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.DOTALL,
    ),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b"),  # GitHub classic tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),  # GitHub fine-grained tokens
    re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"),  # AWS key ids
    re.compile(r"\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),  # OpenAI/Anthropic
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),  # Google API keys
    re.compile(r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}"),  # Stripe
    re.compile(r"\bglpat-[0-9A-Za-z_\-]{20,}"),  # GitLab
    re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),  # npm
    re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}"),  # PyPI upload tokens
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),  # Hugging Face
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),  # JWT
)
# Credentials embedded in a URL: keep scheme and host so the log line still makes sense.
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*+://)[^/\s:@]+:[^/\s@]+@", re.I
)
# Authorization header values; a digit is required so prose like "bearer authentication"
# survives.
_BEARER = re.compile(
    r"(?P<lead>\b(?:Bearer|Basic)\s+)(?=[A-Za-z._~+/\-]*\d)[A-Za-z0-9._~+/\-]{16,}=*", re.I
)
# `name = value` where the name ends in a secret-ish word (`GITHUB_TOKEN=`, `"password": "…"`,
# `api_key: …`). The name must END in the word, so `max_tokens=100` or `token_type` survive,
# and must not be the end of a path: `/etc/passwd: absolute paths are not allowed` is a
# refusal reason the status comment shows, not a password.
_ASSIGNMENT = re.compile(
    r"(?P<lead>(?<![A-Za-z0-9_.\-/])[A-Za-z0-9_.\-]*?"
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|access[_\-]?key|"
    r"(?:private|secret|signing|encryption|master|auth)[_\-]?key|credentials?)"
    r"[\"']?[ \t]*(?::|=|:=|=>)[ \t]*)"
    r"(?P<value>\"[^\"\n]+\"|'[^'\n]+'|[^\s,;'\"`&]++)",
    re.I,
)
# Values that name a secret instead of holding one: placeholders, variables, attribute access.
_NOT_A_SECRET = re.compile(
    r"""^(?:["']?(?:\$\{?|\{\{|<|%|\*{3,}|\[redacted\])"""
    r"|[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+(?:\(.*)?$"
    r"|[A-Za-z_][A-Za-z0-9_.]*\(.*"
    r"|(?:none|null|true|false|nil|undefined|xxx+|changeme|required|optional|str|string)$)",
    re.I,
)


def strip_html_comments(text: str) -> str:
    """Remove HTML comments outside code; comments inside code blocks are visible text."""

    def keep_code(match: re.Match[str]) -> str:
        return "" if match.group("comment") is not None else match.group(0)

    return _FENCE_OR_CODE_OR_COMMENT.sub(keep_code, text)


def strip_invisible(text: str) -> str:
    """Remove code points that render as nothing and terminal escapes.

    Newlines and tabs stay; `\\r\\n` and lone `\\r` become `\\n` so line-based parsing
    downstream never sees a stray carriage return.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    text = _INVISIBLE.sub("", text)
    return _SELECTOR_RUN.sub(r"\1", text)


def _redact_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    bare = value.strip("\"'")
    if len(bare) < 3 or _NOT_A_SECRET.match(value):
        return match.group(0)
    return match.group("lead") + REDACTED


def redact_secrets(text: str) -> str:
    """Replace tokens, keys and secret assignments with `[redacted]`."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    text = _BEARER.sub(lambda m: f"{m.group('lead')}{REDACTED}", text)
    return _ASSIGNMENT.sub(_redact_assignment, text)


# Shorter configured values would also match ordinary words; such secrets are too weak to
# matter anyway.
MIN_SECRET_LENGTH = 6


def redact_known_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the configured secret values, then every token, key and credential pattern
    `redact_secrets` knows. The one scrubbing for logs and for everything the App publishes,
    so the two never drift apart."""
    # Longest first: a secret containing another must not be left half replaced.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return redact_secrets(text)


def clean_untrusted(text: str) -> str:
    """Everything a piece of user-written text needs before it may enter a prompt."""
    return redact_secrets(strip_invisible(strip_html_comments(text)))


def trim_middle(text: str, max_chars: int) -> str:
    """Keep the head and the tail of a long text (CI logs fail at the end, start with setup)."""
    if max_chars <= 0:
        return ""
    if len(text) <= max_chars:
        return text
    marker = f"\n[… {len(text) - max_chars} characters trimmed …]\n"
    head = max(0, (max_chars - len(marker)) // 3)
    tail = max(0, max_chars - len(marker) - head)
    return text[:head] + marker + (text[-tail:] if tail else "")


FENCE_TAG = "untrusted-data"
_FENCE_TAG_INSIDE = re.compile(r"<(\s*/?\s*)(untrusted-data)", re.I)
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9 _.#/:()\-]")


def fence_untrusted(text: str, label: str) -> str:
    """Clean `text` and wrap it as data: `<untrusted-data source="label">…</untrusted-data>`.

    Any tag of the same name inside the text is escaped (`&lt;/untrusted-data`), so the text
    can neither close the fence early nor open a fake one. Deterministic, so the same input
    gives the same prompt and the same prompt hash.
    """
    body = _FENCE_TAG_INSIDE.sub(r"&lt;\1\2", clean_untrusted(text)).strip("\n")
    safe_label = _LABEL_UNSAFE.sub("", strip_invisible(label)).strip()[:80] or "untrusted"
    return f'<{FENCE_TAG} source="{safe_label}">\n{body}\n</{FENCE_TAG}>'
