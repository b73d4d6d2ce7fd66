"""An attempt's record: the prompt sent, the answer got, what applying it did, the diff.

Every text goes through `core.record_text.kept_text` (secrets scrubbed, cut at its cap) before
it is stored. Writes merge into the row, so each stage stores what it has as it happens: a
job killed after the answer arrived still leaves the answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.attempt_record import Message, asked
from bot.core.record_text import (
    ANSWER_CAP_BYTES,
    DIFF_CAP_BYTES,
    PROMPT_CAP_BYTES,
    kept_text,
)
from bot.store.models import Attempt, AttemptRecord, utcnow

_CAPS = {
    "system_prompt": PROMPT_CAP_BYTES,
    "user_prompt": PROMPT_CAP_BYTES,
    "answer": ANSWER_CAP_BYTES,
    "diff": DIFF_CAP_BYTES,
}


async def save_record(
    session: AsyncSession,
    attempt_id: int,
    *,
    secrets: Iterable[str] = (),
    outcome: Mapping[str, Any] | None = None,
    timings: Mapping[str, float] | None = None,
    **texts: str | None,
) -> AttemptRecord:
    """Store the given fields of attempt `attempt_id`'s record (system_prompt, user_prompt,
    answer, diff as keywords); fields not given keep their stored value; `outcome` and
    `timings` are merged key by key."""
    unknown = set(texts) - set(_CAPS)
    if unknown:
        raise TypeError(f"unknown record fields: {', '.join(sorted(unknown))}")
    secrets = [s for s in secrets if s]
    record = await session.get(AttemptRecord, attempt_id)
    if record is None:
        record = AttemptRecord(attempt_id=attempt_id, outcome={}, timings={})
        session.add(record)
    for name, text in texts.items():
        setattr(record, name, kept_text(text, _CAPS[name], secrets))
    if outcome:
        scrubbed = {key: _scrub_value(value, secrets) for key, value in outcome.items()}
        record.outcome = {**(record.outcome or {}), **scrubbed}
    if timings:
        record.timings = {**(record.timings or {}), **{k: float(v) for k, v in timings.items()}}
    record.updated_at = utcnow()
    return record


def _scrub_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return kept_text(value, ANSWER_CAP_BYTES, secrets)
    if isinstance(value, list):
        return [_scrub_value(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, secrets) for k, v in value.items()}
    return value


async def record_call(
    session: AsyncSession,
    attempt: Attempt,
    *,
    messages: Sequence[Message],
    answer: str,
    outcome: Mapping[str, Any],
    secrets: Iterable[str] = (),
    seconds: float | None = None,
) -> None:
    """The record of a one-call attempt row (localization, planning), in its transaction:
    the call's `messages` and `answer`, and what became of it."""
    system_prompt, user_prompt = asked(messages)
    await session.flush()  # the row's id
    await save_record(
        session,
        attempt.id,
        secrets=secrets,
        outcome=outcome,
        timings={"llm_s": seconds} if seconds is not None else None,
        system_prompt=system_prompt,
        user_prompt=user_prompt,
        answer=answer,
    )


async def load_record(session: AsyncSession, attempt_id: int) -> AttemptRecord | None:
    return await session.get(AttemptRecord, attempt_id)


async def note_progress(session: AsyncSession, attempt_id: int, streamed_tokens: int) -> None:
    """Store how many output tokens have streamed so far (callers throttle how often)."""
    attempt = await session.get(Attempt, attempt_id)
    if attempt is not None:
        attempt.streamed_tokens, attempt.progress_at = streamed_tokens, utcnow()
