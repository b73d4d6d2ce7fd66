"""Claims jobs and runs them through the dispatcher.

Runs inside `serve` (started and drained by the app's lifespan) or alone as
`issuewright worker --concurrency N`, any number of them against one PostgreSQL.
On shutdown it stops claiming, lets running jobs finish within a grace period, and gives
back the rest so another worker picks them up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.jobs.dispatch import DeliveryEvent, HandlerErrors, Router
from bot.runtime import HandlerContext
from bot.store import queue
from bot.store.models import Delivery, WorkerBeat, utcnow
from bot.store.retry import retry_store_write

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0
MAINTENANCE_SECONDS = 15.0
# How long a job past its wall-clock limit gets to unwind after being cancelled; one that
# ignores the cancellation is abandoned, so its slot is free either way.
CANCEL_GRACE_SECONDS = 10.0


def heartbeat_seconds(lease_seconds: float) -> float:
    """How often a running job's lease is renewed: a third of it, so two beats in a row can
    be late or lost before the lease runs out."""
    return lease_seconds / 3


class PermanentError(Exception):
    """A failure that retrying cannot fix; the job goes to the dead letter at once."""

    retryable = False


class JobTimedOut(Exception):
    """The job ran past JOB_TIMEOUT_SECONDS and was cancelled. Retried with backoff like any
    failure, then dead-lettered with this reason once its attempts are used up."""

    retryable = True


class Worker:
    def __init__(
        self,
        ctx: HandlerContext,
        router: Router,
        *,
        concurrency: int = 4,
        worker_id: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.router = router
        self.concurrency = max(1, concurrency)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()
        self._slots: list[asyncio.Task[None]] = []
        self._running: dict[int, tuple[queue.ClaimedJob, asyncio.Task[None]]] = {}
        # Claims whose outcome is not yet known (the statement, or the release of a job
        # claimed too late): stop() waits for them so no claimed job is left unaccounted.
        self._claiming: set[asyncio.Task[Any]] = set()
        self._maintenance: asyncio.Task[None] | None = None

    @property
    def lease_seconds(self) -> float:
        return float(self.ctx.settings.job_lease_seconds)

    @property
    def job_timeout_seconds(self) -> float:
        return float(self.ctx.settings.job_timeout_seconds)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._slots = [
            asyncio.create_task(self._slot_loop(), name=f"worker-slot-{i}")
            for i in range(self.concurrency)
        ]
        self._maintenance = asyncio.create_task(self._maintain(), name="worker-maintenance")

    async def stop(self, grace_seconds: float | None = None) -> None:
        """Stop claiming; wait up to the grace period for running jobs; release the rest."""
        grace = self.ctx.settings.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        self._stopping.set()
        self.ctx.wake.set()
        if self._claiming:
            # A claim in flight either lands in _running (claimed before we stopped) or is
            # given back untouched by _claim; cancelling it mid-statement could leave a job
            # claimed by nobody until its lease ran out.
            await asyncio.wait(set(self._claiming))
        running = [task for _, task in self._running.values()]
        if running:
            log.info("waiting up to %.0fs for %d running job(s)", grace, len(running))
            await asyncio.wait(running, timeout=grace)
        for job, task in list(self._running.values()):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                await queue.release(self.ctx.sessions, job, self.worker_id)
                log.info("released job %s for another worker", job.id)
        for task in [*self._slots, *([self._maintenance] if self._maintenance else [])]:
            task.cancel()
        await asyncio.gather(*self._slots, return_exceptions=True)
        if self._maintenance:
            await asyncio.gather(self._maintenance, return_exceptions=True)

    async def _slot_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ran = await self.run_one()
            except Exception:
                log.exception("worker loop error; continuing")
                ran = False
            if not ran and not self._stopping.is_set():
                self.ctx.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ctx.wake.wait(), IDLE_POLL_SECONDS)

    async def _maintain(self) -> None:
        # Heartbeats come every third of the lease, so one late or failed beat (a database
        # blip) still leaves the lease alive; a lease of 5 s with 15 s beats ran a healthy
        # worker's job twice at once.
        interval = min(MAINTENANCE_SECONDS, heartbeat_seconds(self.lease_seconds))
        while not self._stopping.is_set():
            await self._renew_leases()
            try:
                await self.beat()
                recovered = await queue.recover_expired_leases(self.ctx.sessions)
                if recovered:
                    log.warning("recovered %d job(s) from expired leases", recovered)
                    self.ctx.wake.set()
            except Exception as exc:
                log.error("worker maintenance failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    async def _renew_leases(self) -> None:
        """Extend the lease of every job this worker holds, each on its own: one failed write
        must not keep the others from being renewed."""
        for job, _ in list(self._running.values()):
            try:
                await queue.heartbeat(self.ctx.sessions, job.id, self.worker_id, self.lease_seconds)
            except Exception as exc:
                log.error("heartbeat for job %s failed: %s", job.id, exc)

    async def beat(self) -> None:
        insert = (
            postgresql.insert
            if self.ctx.settings.database_url.startswith("postgres")
            else sqlite.insert
        )
        now = utcnow()
        async with self.ctx.sessions() as session, session.begin():
            await session.execute(
                insert(WorkerBeat)
                .values(worker_id=self.worker_id, beat_at=now)
                .on_conflict_do_update(index_elements=["worker_id"], set_={"beat_at": now})
            )

    # ------------------------------------------------------------------ one job

    async def run_one(self) -> bool:
        """Claim and run one job. False when there was nothing to do."""
        if self._stopping.is_set():
            return False
        claiming = asyncio.create_task(self._claim(), name="worker-claim")
        self._claiming.add(claiming)
        claiming.add_done_callback(self._claiming.discard)
        # Shielded: stop() cancelling this slot must not cut a claim in half.
        task = await asyncio.shield(claiming)
        if task is None:
            return False
        await asyncio.shield(task)
        return True

    async def _claim(self) -> asyncio.Task[None] | None:
        """Claim a job and start it, in one step as far as stop() can see: a claimed job is in
        _running before this returns. One claimed after stop() began is given back before any
        side effect (stop() has already chosen which running jobs it waits for)."""
        job = await queue.claim_next_job(
            self.ctx.sessions,
            self.worker_id,
            self.lease_seconds,
            installation_cap=self.ctx.settings.installation_max_concurrent_jobs,
        )
        if job is None:
            return None
        if self._stopping.is_set():
            await retry_store_write(
                lambda: queue.release(self.ctx.sessions, job, self.worker_id),
                f"giving back job {job.id}",
            )
            log.info("released job %s: claimed while stopping, before it started", job.id)
            return None
        task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
        self._running[job.id] = (job, task)
        task.add_done_callback(lambda _: self._running.pop(job.id, None))
        return task

    async def drain(self, limit: int = 1000) -> int:
        """Run jobs until none is runnable now (tests and `worker --once`)."""
        count = 0
        while count < limit and await self.run_one():
            count += 1
        return count

    async def _execute(self, job: queue.ClaimedJob) -> None:
        log.info(
            "job %s (%s) attempt %d",
            job.id,
            job.kind,
            job.attempts,
            extra={"job_id": job.id, "delivery_id": job.delivery_id, "task_id": job.task_id},
        )
        started = time.monotonic()
        try:
            await self._dispatch_within_limit(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            retryable = (
                exc.retryable if isinstance(exc, HandlerErrors) else getattr(exc, "retryable", True)
            )
            error = f"{type(exc).__name__}: {exc}"
            status = await retry_store_write(
                lambda: queue.fail(
                    self.ctx.sessions, job, self.worker_id, error, retryable=retryable
                ),
                f"recording job {job.id}'s failure",
            )
            log.warning("job %s failed (%s): %s", job.id, status, exc)
            self._observe(job, started, "retry" if status == "queued" else "dead")
            return
        # Still in self._running while this retries, so its lease keeps being renewed.
        await retry_store_write(
            lambda: queue.complete(self.ctx.sessions, job, self.worker_id),
            f"recording job {job.id}'s completion",
        )
        self._observe(job, started, "done")

    async def _dispatch_within_limit(self, job: queue.ClaimedJob) -> None:
        """Run the job's handlers, cancelled past JOB_TIMEOUT_SECONDS. The lease is renewed
        while a job runs, so without this a handler that never returns (an endpoint that
        never finishes, a hung subprocess) would hold its slot forever."""
        limit = self.job_timeout_seconds
        handler = asyncio.create_task(self._dispatch(job), name=f"job-{job.id}-handlers")
        try:
            done, _ = await asyncio.wait({handler}, timeout=limit)
        except asyncio.CancelledError:  # shutdown: the handlers stop with us
            handler.cancel()
            await asyncio.wait({handler}, timeout=CANCEL_GRACE_SECONDS)
            raise
        if done:
            return handler.result()
        handler.cancel()
        await asyncio.wait({handler}, timeout=CANCEL_GRACE_SECONDS)
        if handler.done():
            if not handler.cancelled():
                handler.exception()  # retrieved: it is reported as the timeout below
        else:
            log.error("job %s ignored its cancellation; abandoned to free the slot", job.id)
            handler.add_done_callback(lambda t: t.cancelled() or t.exception())
        raise JobTimedOut(
            f"the job ran longer than JOB_TIMEOUT_SECONDS ({limit:g} s) and was cancelled"
        )

    def _observe(self, job: queue.ClaimedJob, started: float, outcome: str) -> None:
        if self.ctx.metrics is not None:
            self.ctx.metrics.job_finished(job.kind, time.monotonic() - started, outcome)

    async def _dispatch(self, job: queue.ClaimedJob) -> None:
        if job.kind != "delivery":
            await self.router.dispatch_job(self.ctx, job.kind, job.payload, job.id)
            return
        async with self.ctx.sessions() as session:
            delivery = (
                await session.execute(
                    select(Delivery).where(Delivery.delivery_id == job.delivery_id)
                )
            ).scalar_one_or_none()
        if delivery is None:
            raise PermanentError(f"delivery {job.delivery_id} is not stored")
        payload: dict[str, Any] = json.loads(delivery.payload)
        event = DeliveryEvent(
            delivery_id=delivery.delivery_id,
            event=delivery.event,
            action=delivery.action,
            installation_id=delivery.installation_id,
            repository=delivery.repository,
            payload=payload,
        )
        reason = await self.router.skip_reason(self.ctx, event)
        if reason:
            log.info("delivery %s not acted on: %s", event.delivery_id, reason)
            await queue.mark_delivery(self.ctx.sessions, event.delivery_id, "skipped", reason)
            return
        await self.router.dispatch_delivery(self.ctx, event)
