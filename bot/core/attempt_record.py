"""The shape of an attempt's record, one for the app's `attempt_records` rows and for the
record.json of `issuewright run`'s run folder (pure).

A repair round keeps both rounds: a text field holds round 1, then each later round under a
separator line (`ROUND_LINE`), every part cut at its share of the field's cap, so the last
round is never lost behind a huge first one. The prompt keeps the system message, the task's
prompt and each repair message (the echoed answer is round 1's answer, kept once). The outcome
says what became of the final round at the top (`applied`, `files`, `refused`, `repaired`)
and of every round in `rounds`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from bot.core.edits import EditProblem
from bot.core.record_text import CUT_WORDS, cut_marker, kept_text
from bot.core.sanitize import REDACTED

ROUND_LINE = "──── round {n}: the repair round ────"


class Message(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


def round_separator(number: int) -> str:
    return f"\n\n{ROUND_LINE.format(n=number)}\n\n"


def joined_rounds(parts: Sequence[str], cap_bytes: int, secrets: Iterable[str] = ()) -> str:
    """Round 1's text, then every later round under its separator; each part scrubbed and
    cut at its share of `cap_bytes`, so the whole stays within the cap."""
    secrets = list(secrets)
    if not parts:
        return ""
    seps = [round_separator(n) for n in range(2, len(parts) + 1)]
    room = cap_bytes - sum(len(s.encode()) for s in seps)
    share = max(len(cut_marker(cap_bytes).encode()) + 1, room // len(parts))
    kept = [kept_text(part, share, secrets) or "" for part in parts]
    text = kept[0]
    for sep, part in zip(seps, kept[1:], strict=True):
        text += sep + part
    return text


def split_rounds(text: str) -> list[str]:
    """The parts of a joined text, round 1 first (the inverse of `joined_rounds`)."""
    parts: list[str] = []
    rest, n = text, 2
    while round_separator(n) in rest:
        head, _, rest = rest.partition(round_separator(n))
        parts.append(head)
        n += 1
    return [*parts, rest]


def last_round(text: str, rounds: int) -> str:
    """The final round's part of a joined text (what the model answered last)."""
    if rounds < 2:
        return text
    _, sep, tail = text.rpartition(round_separator(rounds))
    return tail if sep else text


def reusable_answer(answer: str | None, outcome: Mapping[str, Any] | None) -> str | None:
    """The answer an interrupted attempt already got, when a re-run may use it instead of
    asking (and paying) the model again: the final round's text, unless it was refused, cut
    when stored, or had a secret scrubbed out of it (then it is not what the model said)."""
    outcome = outcome or {}
    rounds = outcome.get("rounds") or []
    if not answer or (rounds and not outcome.get("applied")):
        return None
    text = last_round(answer, max(1, len(rounds)))
    if CUT_WORDS in text or REDACTED in text:
        return None
    return text


def asked(messages: Sequence[Message]) -> tuple[str | None, str]:
    """(system prompt, this round's user message) of one round's messages: round 1's user
    message is the task's prompt, a repair round's is the feedback on the refused answer."""
    system = next((m.content for m in messages if m.role == "system"), None)
    user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return system, user


def round_outcome(
    number: int,
    *,
    applied: bool,
    files: Sequence[str],
    refused: Sequence[str],
    notes: Sequence[str] = (),
    finish_reason: str | None = None,
    tokens: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """What became of one answer: applied (its files) or refused (the reasons)."""
    outcome: dict[str, Any] = {
        "round": number,
        "applied": applied,
        "files": list(files),
        "refused": list(refused),
        "notes": list(notes),
        "finish_reason": finish_reason,
    }
    if tokens is not None:
        outcome["tokens"] = {"input": tokens[0], "output": tokens[1]}
    return outcome


def record_outcome(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The record's outcome: the final round's at the top, every round under `rounds`."""
    if not rounds:
        return {"rounds": []}
    last = rounds[-1]
    return {
        "applied": bool(last.get("applied")),
        "files": list(last.get("files") or []),
        "refused": list(last.get("refused") or []),
        "repaired": len(rounds) > 1 and bool(last.get("applied")),
        "rounds": list(rounds),
    }


def refusal_lines(problems: Iterable[EditProblem | str]) -> list[str]:
    """`path: reason (answer line N)` per problem, as the repair message lists them."""
    return [p if isinstance(p, str) else p.render() for p in problems]
