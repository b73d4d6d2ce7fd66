"""Which label events may still act, and the approved text's hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.approval import (
    advance_mark,
    edit_note,
    github_time,
    is_new_label_event,
    label_event_key,
    text_hash,
)

T = datetime(2026, 12, 6, 6, 40, 37, tzinfo=UTC)
ADD = label_event_key("labeled", "7", 1)
REMOVE = label_event_key("unlabeled", "7", 1)


def test_a_label_event_acts_once_and_never_after_a_newer_one() -> None:
    assert is_new_label_event(None, None, T, ADD)
    at, keys = advance_mark(None, None, T, ADD)
    assert not is_new_label_event(at, keys, T, ADD)  # the same event again: a replay
    assert is_new_label_event(at, keys, T, REMOVE)  # removed within the same second
    at, keys = advance_mark(at, keys, T, REMOVE)
    assert not is_new_label_event(at, keys, T, ADD)
    assert is_new_label_event(at, keys, T + timedelta(seconds=1), ADD)  # labelled again
    later, keys = advance_mark(at, keys, T + timedelta(seconds=5), ADD)
    assert not is_new_label_event(later, keys, T + timedelta(seconds=2), REMOVE)  # late


def test_a_label_event_without_a_time_cannot_be_placed_and_acts() -> None:
    at, keys = advance_mark(None, None, T, ADD)
    assert is_new_label_event(at, keys, None, ADD)
    assert advance_mark(at, keys, None, REMOVE) == (at, keys)


def test_github_times_and_hashes() -> None:
    assert github_time("2026-12-06T06:40:37Z") == T
    assert github_time("yesterday") is None and github_time(None) is None
    assert text_hash("a", "bc") != text_hash("ab", "c")
    assert text_hash(None, None) == text_hash("", "")


def test_the_edit_note_names_without_mentioning_and_fits_the_table() -> None:
    note = edit_note("a" * 39, T)
    assert "`" + "a" * 39 + "`" in note and "@" not in note and len(note) < 300
