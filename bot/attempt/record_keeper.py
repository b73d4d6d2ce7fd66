"""Keeps an app attempt's record (`attempt_records`) as the attempt goes: the prompt before
each call, the answer as soon as it arrives (a job killed afterwards still leaves it), what
applying it did, the diff of the commit and the seconds each stage took. The shape is
bot/core/attempt_record.py's, the same as `issuewright run`'s record.json."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.attempt.edit_rounds import Round, too_many_files
from bot.core.attempt_record import (
    asked,
    joined_rounds,
    record_outcome,
    refusal_lines,
    round_outcome,
)
from bot.core.record_text import ANSWER_CAP_BYTES, PROMPT_CAP_BYTES
from bot.llm.base import ChatMessage, LLMResponse
from bot.runtime import HandlerContext
from bot.store.attempt_records import save_record


@dataclass
class RecordKeeper:
    ctx: HandlerContext
    attempt_id: int
    max_files: int | None = None  # the repository's `max_files_per_task`
    clock: Callable[[], float] = time.monotonic
    prompts: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: {"llm_s": 0.0, "apply_s": 0.0})
    _mark: float = 0.0

    async def _save(self, **fields: Any) -> None:
        async with self.ctx.sessions() as session, session.begin():
            await save_record(
                session, self.attempt_id, secrets=self.ctx.settings.secrets(), **fields
            )

    async def asking(self, messages: Sequence[ChatMessage]) -> None:
        """Before a call: the prompt as sent (a repair round adds its message)."""
        system, user = asked(messages)
        self.prompts.append(user)
        secrets = self.ctx.settings.secrets()
        await self._save(
            system_prompt=system, user_prompt=joined_rounds(self.prompts, PROMPT_CAP_BYTES, secrets)
        )
        self._mark = self.clock()

    async def answered(self, response: LLMResponse) -> None:
        """Right after a call: the answer, before anything is done with it."""
        now = self.clock()
        self.timings["llm_s"] += now - self._mark
        self._mark = now
        self.answers.append(response.text)
        secrets = self.ctx.settings.secrets()
        await self._save(
            answer=joined_rounds(self.answers, ANSWER_CAP_BYTES, secrets),
            timings=self.timings,
        )

    async def checked(self, done: Round) -> None:
        """Once the answer was checked (and written, when it applied)."""
        self.timings["apply_s"] += self.clock() - self._mark
        plan = done.plan
        refused = refusal_lines(plan.problems)
        if plan.ok and not plan.changes:
            refused = ["the answer has no edit blocks"]
        elif plan.ok and self.max_files is not None and len(plan.changes) > self.max_files:
            refused = [too_many_files(len(plan.changes), self.max_files)]  # as edit_rounds says
        self.rounds.append(
            round_outcome(
                done.number,
                applied=not refused,
                files=[c.path for c in plan.changes],
                refused=refused,
                notes=plan.notes,
                finish_reason=str(done.response.finish_reason),
                tokens=(done.response.input_tokens, done.response.output_tokens),
            )
        )
        await self._save(outcome=record_outcome(self.rounds), timings=self.timings)

    async def committed(self, diff: str) -> None:
        await self._save(diff=diff)
