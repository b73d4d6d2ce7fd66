"""Live progress of an answer as it streams: the LLM client calls `ProgressReporter` (a plain
sync callback) with the output tokens so far; now and then the reporter stores them on the
attempt (`attempts.streamed_tokens`, read by the dashboard) and edits the task's row in the
status comment ("generating — 1,234 tokens so far, 1 m 20 s").

When to edit is `core.progress`'s decision (at most every 20 s per task, within the
installation's share of GitHub's content-creation limits). The callback only records the
latest count and, when an edit is due, starts it as a background task: it never waits, never
raises into the stream, and starts no edit while the previous one is still running. `aclose`
waits for the edit in flight, so a stale progress edit never lands after the attempt's own.
The clock is injected (`HandlerContext.clock`): tests drive time without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.progress import PROGRESS_INTERVAL, EditBudget, edit_due
from bot.github import GitHubAPI
from bot.report.status_comment import show
from bot.runtime import HandlerContext
from bot.store.attempt_records import note_progress

log = logging.getLogger(__name__)
BUDGETS_KEY = "progress_edit_budgets"  # HandlerContext.extras: installation id → EditBudget
EDITS_KEY = "progress_edits_running"  # HandlerContext.extras: the edits under way

Write = Callable[[int, float], Awaitable[None]]


def installation_budget(ctx: HandlerContext, installation_id: int | None) -> EditBudget:
    """The progress edits one installation may still make: shared by all its tasks in this
    process."""
    budgets: dict[int | None, EditBudget] = ctx.extras.setdefault(BUDGETS_KEY, {})
    return budgets.setdefault(installation_id, EditBudget())


class ProgressReporter:
    """`reporter(tokens)` is the sync callback an LLM request's `progress` takes."""

    def __init__(
        self,
        write: Write,
        clock: Callable[[], float],
        budget: EditBudget,
        *,
        interval: float = PROGRESS_INTERVAL,
        running: set[asyncio.Task[None]] | None = None,
    ) -> None:
        self._write = write
        self._clock = clock
        self._budget = budget
        self._interval = interval
        self._running = running if running is not None else set()
        self._started = clock()
        # The row says "generating" from the start; its first progress edit comes after
        # one interval, like every other.
        self._last_edit: float | None = self._started
        self._tokens = 0  # this attempt's output tokens so far, every round's
        self._earlier = 0  # the rounds before this one (a repair round starts again at 0)
        self._heard = 0
        self._shown = 0
        self._edit: asyncio.Task[None] | None = None
        self._closed = False

    def __call__(self, tokens: int) -> None:
        try:
            self._hear(tokens)
        except Exception:  # never into the stream: progress is a nicety
            log.exception("progress callback failed")

    def _hear(self, tokens: int) -> None:
        tokens = int(tokens)
        if tokens < self._heard:  # a new answer (the repair round) counts from 0 again
            self._earlier += self._heard
        self._heard = tokens
        self._tokens = self._earlier + tokens
        if self._closed or (self._edit is not None and not self._edit.done()):
            return
        now = self._clock()
        if not edit_due(self._last_edit, now, self._tokens, self._shown, interval=self._interval):
            return
        if not self._budget.allows(now):
            return
        self._budget.spend(now)
        self._last_edit, self._shown = now, self._tokens
        edit = asyncio.get_running_loop().create_task(self._run(self._tokens, now - self._started))
        self._edit = edit
        self._running.add(edit)
        edit.add_done_callback(self._running.discard)

    async def _run(self, tokens: int, seconds: float) -> None:
        try:
            await self._write(tokens, seconds)
        except Exception as exc:  # the next edit, or the attempt's own, will say it again
            log.warning("progress edit failed: %s", exc)

    async def aclose(self) -> None:
        """No edit after this; the one in flight finishes first."""
        self._closed = True
        if self._edit is not None:
            await asyncio.gather(self._edit, return_exceptions=True)


def status_progress(
    ctx: HandlerContext, api: GitHubAPI, run_id: int, ordinal: int, attempt_id: int
) -> Write:
    """Store the count on the attempt, then edit the task's row of the status comment."""

    async def write(tokens: int, seconds: float) -> None:
        async with ctx.sessions() as session, session.begin():
            await note_progress(session, attempt_id, tokens)
        await show(ctx, api, run_id, live={ordinal: (tokens, seconds)})

    return write


def reporter_for(
    ctx: HandlerContext,
    api: GitHubAPI,
    installation_id: int | None,
    run_id: int,
    ordinal: int,
    attempt_id: int,
) -> ProgressReporter:
    """The reporter of one attempt, on the context's clock and its installation's budget."""
    return ProgressReporter(
        status_progress(ctx, api, run_id, ordinal, attempt_id),
        ctx.clock,
        installation_budget(ctx, installation_id),
        running=ctx.extras.setdefault(EDITS_KEY, set()),
    )


async def progress_edits_done(ctx: HandlerContext) -> None:
    """Wait for every progress edit under way (a stand-in LLM in tests calls this after each
    chunk, instead of sleeping)."""
    running: set[asyncio.Task[None]] = ctx.extras.get(EDITS_KEY, set())
    if running:
        await asyncio.gather(*list(running), return_exceptions=True)
