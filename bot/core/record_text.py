"""What an attempt record keeps of a text: secrets out, then cut at a cap that says so.

Pure, so the app's stored rows and `issuewright run`'s run folder keep the same text."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.publish import publishable

# Per field: a prompt with 16k tokens of context is about 64 KB; answers rarely pass 40 KB.
PROMPT_CAP_BYTES = 256 * 1024
ANSWER_CAP_BYTES = 256 * 1024
DIFF_CAP_BYTES = 256 * 1024


CUT_WORDS = "\n… cut at "


def cut_marker(cap_bytes: int) -> str:
    return f"{CUT_WORDS}{cap_bytes // 1024} KB"


def kept_text(text: str | None, cap_bytes: int, secrets: Iterable[str] = ()) -> str | None:
    """`text` with secrets and credentials scrubbed, cut to at most `cap_bytes` of UTF-8
    (a character is never split) with a visible "… cut at N KB" line when cut."""
    if text is None:
        return None
    clean = publishable(text, secrets)
    data = clean.encode()
    if len(data) <= cap_bytes:
        return clean
    marker = cut_marker(cap_bytes)
    room = max(0, cap_bytes - len(marker.encode()))
    return data[:room].decode(errors="ignore") + marker
