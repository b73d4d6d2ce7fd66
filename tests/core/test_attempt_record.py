"""The record's shape: rounds joined under a separator, each within its share of the cap."""

from __future__ import annotations

from bot.core.attempt_record import (
    joined_rounds,
    last_round,
    record_outcome,
    round_outcome,
    round_separator,
    split_rounds,
)


def test_a_huge_first_answer_does_not_hide_the_repair_rounds() -> None:
    cap = 64 * 1024
    text = joined_rounds(["a" * cap * 2, "the repaired answer"], cap)
    assert len(text.encode()) <= cap
    first, second = split_rounds(text)
    assert first.startswith("aaaa") and first.rsplit("\n", 1)[1].startswith("… cut at ")
    assert second == "the repaired answer"
    assert last_round(text, 2) == "the repaired answer"


def test_rounds_are_split_back_and_secrets_left_out() -> None:
    text = joined_rounds(["one token=abcdef123456", "two"], 1024, secrets=["abcdef123456"])
    assert "abcdef123456" not in text
    assert text.startswith("one ") and text.endswith(round_separator(2) + "two")
    assert split_rounds("only") == ["only"] and last_round("only", 1) == "only"


def test_the_outcome_tells_the_final_round_and_keeps_each() -> None:
    refused = round_outcome(1, applied=False, files=[], refused=["a.py: SEARCH not found"])
    applied = round_outcome(2, applied=True, files=["a.py"], refused=[], tokens=(10, 5))
    outcome = record_outcome([refused, applied])
    assert outcome["applied"] and outcome["repaired"] and outcome["files"] == ["a.py"]
    assert outcome["rounds"][0]["refused"] == ["a.py: SEARCH not found"]
    assert outcome["rounds"][1]["tokens"] == {"input": 10, "output": 5}
    failed = record_outcome([refused, refused])
    assert not failed["applied"] and not failed["repaired"]
    assert failed["refused"] == ["a.py: SEARCH not found"]
