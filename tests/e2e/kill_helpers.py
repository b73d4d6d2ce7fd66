"""Killing a job at the exact point that matters, and running it again (issue 12, cause 1).

`kill_after` wraps one call the app makes (a GitHubAPI method, a git push) so that, once it
has returned, the worker dies as after a SIGKILL: the job's row stays "running" with its lease,
nothing else of the job happens. `run_again` expires that lease, recovers the job and lets
everything settle, as the next worker would.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.store import queue
from bot.store.models import utcnow
from tests.e2e.conftest import Scenario


class Killed(BaseException):
    """The worker process dying: nothing in the app catches it."""


class KillSwitch:
    """Armed on one call; fires once, the first time `when` holds for that call's arguments."""

    def __init__(self) -> None:
        self.fired = False


def kill_after(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    when: Callable[..., bool] = lambda *args, **kw: True,
) -> KillSwitch:
    """Replace `owner.name` (sync or async) so the worker dies right after the first call for
    which `when(*args, **kw)` holds has returned."""
    real = getattr(owner, name)
    switch = KillSwitch()

    def fire(args: tuple[Any, ...], kw: dict[str, Any]) -> None:
        if not switch.fired and when(*args, **kw):
            switch.fired = True
            raise Killed

    if inspect.iscoroutinefunction(real):

        async def wrapped_async(*args: Any, **kw: Any) -> Any:
            result = await real(*args, **kw)
            fire(args, kw)
            return result

        monkeypatch.setattr(owner, name, wrapped_async)
    else:

        def wrapped(*args: Any, **kw: Any) -> Any:
            result = real(*args, **kw)
            fire(args, kw)
            return result

        monkeypatch.setattr(owner, name, wrapped)
    return switch


def kill_before_completion(
    monkeypatch: pytest.MonkeyPatch, when: Callable[[queue.ClaimedJob], bool]
) -> KillSwitch:
    """The worker dies once the first job for which `when(job)` holds has done everything,
    before its completion is recorded: the job runs again in full after its lease."""
    real = queue.complete
    switch = KillSwitch()

    async def die_first(sessions: Any, job: queue.ClaimedJob, worker_id: str) -> bool:
        if not switch.fired and when(job):
            switch.fired = True
            raise Killed
        return await real(sessions, job, worker_id)

    monkeypatch.setattr(queue, "complete", die_first)
    return switch


async def settle_until_killed(scenario: Scenario, switch: KillSwitch) -> None:
    """Run what GitHub sends until the armed call kills its job."""
    with pytest.raises(Killed):
        for _ in range(20):
            await scenario.sim.flush()
            ran = await scenario.harness.drain()
            if not ran and not scenario.sim.outbox:
                break
    assert switch.fired


async def run_again(scenario: Scenario) -> None:
    """The killed job's lease runs out; it is recovered and run again with everything else."""
    later = utcnow() + timedelta(seconds=scenario.settings.job_lease_seconds + 1)
    assert await queue.recover_expired_leases(scenario.harness.sessions, now=later) == 1
    await scenario.settle()
