"""The live-progress reporter (bot/report/progress.py): fed by the sync callback an LLM
client calls, it edits at the allowed rate on an injected clock, never blocks or raises into
the stream, and lets the edit in flight finish when the call ends."""

from __future__ import annotations

import asyncio

from bot.core.progress import EditBudget
from bot.report.progress import ProgressReporter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Edits:
    """The write side: records (tokens, seconds); `gate` holds an edit open on demand."""

    def __init__(self) -> None:
        self.made: list[tuple[int, float]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    async def write(self, tokens: int, seconds: float) -> None:
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("GitHub said no")
        self.made.append((tokens, seconds))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_edits_at_most_every_twenty_seconds_with_the_latest_count() -> None:
    clock, edits = Clock(), Edits()
    reporter = ProgressReporter(edits.write, clock, EditBudget())
    for second in range(0, 65, 5):  # a chunk every 5 s for a minute
        clock.now = 1000.0 + second
        reporter(second * 10 + 7)
        await settle()
    await reporter.aclose()
    assert edits.made == [(207, 20.0), (407, 40.0), (607, 60.0)]


async def test_the_callback_never_waits_for_an_edit_nor_starts_a_second_one() -> None:
    clock, edits = Clock(), Edits()
    edits.gate.clear()  # GitHub is slow: the first edit hangs
    reporter = ProgressReporter(edits.write, clock, EditBudget())
    clock.now += 20
    reporter(100)  # starts the edit and returns at once
    clock.now += 40
    reporter(300)  # due, but one is still running: only the count is kept
    await settle()
    assert edits.made == []
    edits.gate.set()
    await settle()
    assert edits.made == [(100, 20.0)]
    clock.now += 1
    reporter(310)  # the next chunk after the edit ends brings the latest count
    await reporter.aclose()
    assert edits.made == [(100, 20.0), (310, 61.0)]


async def test_a_failing_edit_or_callback_never_raises_into_the_stream() -> None:
    clock, edits = Clock(), Edits()
    edits.fail = True
    reporter = ProgressReporter(edits.write, clock, EditBudget())
    clock.now += 20
    reporter(50)
    await settle()
    reporter("not a number")  # type: ignore[arg-type]
    await reporter.aclose()
    assert edits.made == []


async def test_close_waits_for_the_edit_in_flight_and_stops_edits() -> None:
    clock, edits = Clock(), Edits()
    edits.gate.clear()
    reporter = ProgressReporter(edits.write, clock, EditBudget())
    clock.now += 20
    reporter(100)
    closing = asyncio.ensure_future(reporter.aclose())
    await settle()
    assert not closing.done()  # the edit in flight lands before the attempt's own
    edits.gate.set()
    await closing
    clock.now += 100
    reporter(900)
    await settle()
    assert edits.made == [(100, 20.0)]


async def test_an_installations_budget_is_shared_by_its_reporters() -> None:
    clock = Clock()
    budget = EditBudget(per_minute=2, per_hour=100)
    edits = [Edits() for _ in range(3)]
    reporters = [ProgressReporter(e.write, clock, budget) for e in edits]
    clock.now += 20
    for reporter in reporters:
        reporter(10)
    for reporter in reporters:
        await reporter.aclose()
    assert sum(len(e.made) for e in edits) == 2


async def test_a_repair_rounds_tokens_add_to_the_first_answers() -> None:
    clock, edits = Clock(), Edits()
    reporter = ProgressReporter(edits.write, clock, EditBudget())
    reporter(400)  # the first answer ends at 400 tokens
    clock.now += 20
    reporter(30)  # the repair round's answer starts again
    await reporter.aclose()
    assert edits.made == [(430, 20.0)]
