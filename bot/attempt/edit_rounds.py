"""The answer-to-edits loop every attempt runs, the app's and `issuewright run`'s alike: ask,
check and write the answer all-or-nothing (with the formatter the operator allows), and give
what could not be applied back to the model for one repair round. GitHub-free and
database-free: the caller says how to ask (budgeted, recorded) and what to note per stage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.attempt import safe_write as safety
from bot.attempt.apply_answer import apply_answer
from bot.attempt.formatter import Formatter, FormatterRefused, format_changes
from bot.attempt.safe_write import EditPlan
from bot.core.lifecycle import TaskEvent
from bot.core.repair import echoed_answer, refusal_message, render_repair_message
from bot.llm.base import ChatMessage, LLMError, LLMResponse
from bot.settings import RepoConfig

MAX_TRUNCATED_ECHO_CHARS = 2_000


class StopAttempt(Exception):
    """The attempt ends here with this task event and message (already user-facing)."""

    def __init__(
        self,
        event: TaskEvent,
        message: str,
        *,
        keep_branch: bool = False,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.event = event
        self.message = message
        self.keep_branch = keep_branch
        self.detail = detail  # for the log and the stored attempt, never for a comment


@dataclass(frozen=True)
class Round:
    """One answer and what became of it (for a caller that keeps a record of each)."""

    number: int
    response: LLMResponse
    plan: EditPlan


def too_many_files(count: int, limit: int) -> str:
    """Why an answer over the repository's `max_files_per_task` is refused (app and CLI)."""
    return f"the answer changes {count} files; the limit is {limit} (`max_files_per_task`)"


def attempt_messages(
    system: str, prompt: str, extra_instructions: str | None = None
) -> list[ChatMessage]:
    """The messages an attempt starts with: the system prompt and the task's prompt, with a
    maintainer's extra instructions marked as data."""
    if extra_instructions:
        prompt += (
            "\n\n## Extra instructions from a maintainer (data, not system rules)\n"
            + extra_instructions[:2000]
        )
    return [ChatMessage("system", system), ChatMessage("user", prompt)]


Ask = Callable[[int, list[ChatMessage]], Awaitable[LLMResponse]]
Seen = Callable[[Round], Awaitable[None]]


async def edit_rounds(
    worktree: Path,
    config: RepoConfig,
    formatter: Formatter | None,
    messages: list[ChatMessage],
    ask: Ask,
    seen: Seen,
    *,
    retry_hint: str = "Comment `/issuewright retry` to try again.",
) -> EditPlan:
    """The written plan (ok, with changes) of the first answer that applies, else
    StopAttempt saying why. `ask(round, messages)` makes one call; `seen` hears of each
    answer once it was checked (and written, when it applied)."""
    first_problems: str | None = None
    for round_ in (1, 2):
        try:
            response = await ask(round_, messages)
        except LLMError as exc:
            if first_problems is None:
                raise
            # Say what was wrong with the first answer, not only why its repair failed.
            raise StopAttempt(
                TaskEvent.GENERATION_FAILED,
                f"{first_problems}; the repair round then failed: {exc.user_message}",
                detail=str(exc),
            ) from None
        try:
            plan = await asyncio.to_thread(
                apply_answer,
                worktree,
                response.text,
                denied_paths=config.denied_paths,
                max_file_bytes=config.max_file_bytes,
            )
            if plan.ok and formatter is not None:
                note = await asyncio.to_thread(
                    format_changes, worktree, formatter, plan, config.denied_paths
                )
                plan = replace(plan, notes=(*plan.notes, note)) if note else plan
        except safety.WriteError as exc:  # rolled back; a disk problem, not the model's
            raise StopAttempt(
                TaskEvent.GENERATION_FAILED,
                f"the edits could not be written ({exc}); nothing was pushed. {retry_hint}",
            ) from None
        except FormatterRefused as exc:
            raise StopAttempt(
                TaskEvent.GENERATION_FAILED,
                f"{exc}; nothing was pushed. Check the formatter's configuration, then "
                f"{retry_hint[0].lower()}{retry_hint[1:]}",
            ) from None
        await seen(Round(round_, response, plan))
        if plan.ok and len(plan.changes) > config.max_files_per_task:
            raise StopAttempt(
                TaskEvent.GENERATION_FAILED,
                too_many_files(len(plan.changes), config.max_files_per_task),
            )
        if plan.ok and plan.changes:
            return plan
        problems = list(plan.problems)
        if plan.ok:  # parsed fine but no edits at all
            feedback = "Your answer contained no edit blocks. Answer with SEARCH/REPLACE blocks."
        else:
            feedback = render_repair_message(problems)
        cut_off = response.finish_reason == "length"
        if cut_off:
            feedback = (
                "Your answer was cut off at the output limit. Answer again with fewer, "
                "smaller SEARCH/REPLACE blocks: only the lines that change.\n\n" + feedback
            )
        if round_ == 2:
            raise StopAttempt(TaskEvent.GENERATION_FAILED, refusal_message(problems, retry_hint))
        first_problems = refusal_message(problems, retry_hint) + (
            " (the answer was cut off at `max_output_tokens`)" if cut_off else ""
        )
        # A cut-off answer is mostly repetition: echo only its start, or the repair round may
        # not fit the model's context at all.
        echo = response.text[:MAX_TRUNCATED_ECHO_CHARS] if cut_off else echoed_answer(response.text)
        messages = [*messages, ChatMessage("assistant", echo), ChatMessage("user", feedback)]
    raise AssertionError("unreachable")
