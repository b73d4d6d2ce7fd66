"""What a maintainer approved, and which label events may still act.

A maintainer's label (or `plan` / `retry` command) approves the issue text as it was then;
every task is generated from that text. An edit afterwards by someone without write
permission is ignored and noted. A label event acts once per application of the label: a
replayed or late event never undoes (or redoes) what a newer one decided.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

EDIT_NOTE_PREFIX = "Ignored edit:"


def text_hash(title: str | None, body: str | None) -> str:
    """sha256 of the issue's title and body (together, so neither can move into the other)."""
    data = json.dumps([title or "", body or ""], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def github_time(value: object) -> datetime | None:
    """A GitHub timestamp ("2026-12-06T06:40:37Z") as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def label_event_key(action: str, label: str, issue_id: object) -> str:
    """What one label event is, beside its time: the same label added or removed again in
    the same second is another event, a replay of this one is not."""
    return f"{action}:{label}:{issue_id}"


def is_new_label_event(
    mark_at: datetime | None, mark_keys: Sequence[str] | None, at: datetime | None, key: str
) -> bool:
    """Whether a label event at `at` may act, given the newest one acted on (`mark_at`, and
    the events seen at exactly that time). Older events are stale; the same event is a
    replay. Without a time it cannot be placed: it acts (the body dedupe still holds)."""
    if at is None or mark_at is None:
        return True
    if at < mark_at:
        return False
    return at > mark_at or key not in (mark_keys or [])


def advance_mark(
    mark_at: datetime | None, mark_keys: Sequence[str] | None, at: datetime | None, key: str
) -> tuple[datetime | None, list[str]]:
    """The mark after acting on the event at `at`."""
    if at is None:
        return mark_at, list(mark_keys or [])
    if mark_at is None or at > mark_at:
        return at, [key]
    return mark_at, [*(mark_keys or []), key]


def edit_note(login: str, at: datetime | None) -> str:
    """The status comment's note for an edit that was not approved. The login is in a code
    span: naming the editor must not notify them."""
    when = f" at {at:%Y-%m-%d %H:%M} UTC" if at else ""
    return (  # the status table cuts notes at 300 characters: this stays well below
        f"{EDIT_NOTE_PREFIX} `{login}` edited the issue{when} after approval and has no write "
        "permission; tasks use the approved text. A maintainer can re-label or comment "
        "`/issuewright retry` to approve the new text."
    )


def without_edit_notes(notes: Sequence[object]) -> list[object]:
    return [n for n in notes if not str(n).startswith(EDIT_NOTE_PREFIX)]
