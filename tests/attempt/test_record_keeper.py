"""The record keeper stores each stage as it happens, timed by the clock it is given."""

from __future__ import annotations

from pathlib import Path

from bot.attempt.edit_rounds import Round
from bot.attempt.record_keeper import RecordKeeper
from bot.attempt.safe_write import EditPlan
from bot.core.edit_apply import FileChange
from bot.core.edits import EditProblem
from bot.llm.base import ChatMessage, LLMResponse
from bot.runtime import HandlerContext
from bot.store.attempt_records import load_record
from bot.store.db import make_engine, make_session_factory
from tests.conftest import WEBHOOK_SECRET, make_settings
from tests.store.test_attempt_records import _attempt


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(text: str) -> LLMResponse:
    return LLMResponse(text, "m", 10, 5, "stop")


async def test_each_stage_is_stored_with_its_seconds(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            attempt_id = await _attempt(session)
        ctx = HandlerContext(make_settings(tmp_path, database_url), sessions)
        clock = Clock()
        keeper = RecordKeeper(ctx, attempt_id, max_files=5, clock=clock)
        messages = [ChatMessage("system", "rules"), ChatMessage("user", "fix a.py")]

        await keeper.asking(messages)
        clock.now += 2.0
        await keeper.answered(answer(f"bad, with {WEBHOOK_SECRET}"))
        async with sessions() as session:
            record = await load_record(session, attempt_id)
        assert record is not None and record.answer == "bad, with [redacted]"  # kept already
        clock.now += 0.5
        refused = EditPlan(problems=(EditProblem("a.py", "SEARCH text not found"),))
        await keeper.checked(Round(1, answer("bad"), refused))

        repair = [*messages, ChatMessage("assistant", "bad"), ChatMessage("user", "try again")]
        await keeper.asking(repair)
        clock.now += 1.0
        await keeper.answered(answer("good"))
        clock.now += 0.25
        change = FileChange("a.py", "modify", "x = 1\n", "x = 2\n", 1, 1)
        await keeper.checked(Round(2, answer("good"), EditPlan(changes=(change,))))
        await keeper.committed("+x = 2\n")

        async with sessions() as session:
            record = await load_record(session, attempt_id)
        assert record is not None
        assert record.timings == {"llm_s": 3.0, "apply_s": 0.75}
        assert record.system_prompt == "rules"
        assert record.user_prompt == "fix a.py\n\n──── round 2: the repair round ────\n\ntry again"
        assert record.outcome["rounds"][0]["refused"] == ["a.py: SEARCH text not found"]
        assert record.outcome["applied"] and record.outcome["repaired"]
        assert record.outcome["files"] == ["a.py"] and record.diff == "+x = 2\n"
    finally:
        await engine.dispose()
