"""An attempt's record keeps what was sent and answered, without secrets, within its caps."""

from __future__ import annotations

from bot.core.record_text import ANSWER_CAP_BYTES, kept_text
from bot.store.attempt_records import load_record, note_progress, save_record
from bot.store.db import make_engine, make_session_factory
from bot.store.models import Attempt, IssueRun, Task


async def _attempt(session) -> int:  # type: ignore[no-untyped-def]
    run = IssueRun(repository="o/r", issue_number=1, installation_id=1)
    session.add(run)
    await session.flush()
    task = Task(
        key="o/r#1/1",
        run_id=run.id,
        repository="o/r",
        issue_number=1,
        ordinal=1,
        title="t",
        task_type="bug_fix",
    )
    session.add(task)
    await session.flush()
    attempt = Attempt(task_id=task.id, kind="generate")
    session.add(attempt)
    await session.flush()
    return attempt.id


async def test_record_is_merged_stage_by_stage_and_scrubbed(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            attempt_id = await _attempt(session)
            await save_record(
                session,
                attempt_id,
                secrets=["s3cr3t-key-value"],
                system_prompt="rules",
                user_prompt="fix it; token s3cr3t-key-value",
            )
        async with sessions() as session, session.begin():
            await save_record(
                session,
                attempt_id,
                answer="ghp_" + "a" * 36,
                outcome={"applied": False, "refused": ["a.py: outside the task"]},
                timings={"llm_s": 1.5},
            )
            await note_progress(session, attempt_id, 321)
        async with sessions() as session:
            record = await load_record(session, attempt_id)
            attempt = await session.get(Attempt, attempt_id)
        assert record is not None and attempt is not None
        assert record.system_prompt == "rules"
        assert "s3cr3t-key-value" not in (record.user_prompt or "")
        assert "ghp_" + "a" * 36 not in (record.answer or "")
        assert record.outcome == {"applied": False, "refused": ["a.py: outside the task"]}
        assert record.timings == {"llm_s": 1.5}
        assert attempt.streamed_tokens == 321 and attempt.progress_at is not None
    finally:
        await engine.dispose()


def test_a_long_answer_is_cut_with_a_visible_line() -> None:
    text = "é" * ANSWER_CAP_BYTES  # two bytes each: twice the cap
    kept = kept_text(text, ANSWER_CAP_BYTES)
    assert kept is not None
    assert len(kept.encode()) <= ANSWER_CAP_BYTES
    assert kept.endswith(f"… cut at {ANSWER_CAP_BYTES // 1024} KB")
    assert kept_text("short", ANSWER_CAP_BYTES) == "short"
