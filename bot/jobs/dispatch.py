"""Routes a job to its handlers: deliveries by (event, action), other jobs by kind.

Handlers of one family live in one module under `bot/handlers/` with their own `Router`;
the app merges them. One failing handler never stops the others: every handler runs, and the
job fails afterwards (to be retried) if any of them raised.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.runtime import HandlerContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryEvent:
    """A stored delivery as handlers see it: the parsed payload and its identifiers."""

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    payload: dict[str, Any]

    @property
    def repository_id(self) -> int | None:
        """GitHub's id of the repository: what state is keyed on (a name can change hands)."""
        value = (self.payload.get("repository") or {}).get("id")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def sender(self) -> dict[str, Any]:
        return self.payload.get("sender") or {}

    @property
    def sender_is_bot(self) -> bool:
        sender = self.sender
        return sender.get("type") == "Bot" or str(sender.get("login", "")).endswith("[bot]")


DeliveryHandler = Callable[["HandlerContext", DeliveryEvent], Awaitable[None]]
# A gate says why a delivery must not be acted on at all (or None to let it through).
DeliveryGate = Callable[["HandlerContext", DeliveryEvent], Awaitable[str | None]]
JobHandler = Callable[["HandlerContext", dict[str, Any], int], Awaitable[None]]


class HandlerErrors(Exception):
    """Some handlers of a job raised; the others ran."""

    def __init__(self, errors: list[tuple[str, BaseException]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {type(e).__name__}: {e}" for name, e in errors))

    @property
    def retryable(self) -> bool:
        return any(getattr(e, "retryable", True) for _, e in self.errors)


@dataclass
class Router:
    _deliveries: dict[tuple[str, str | None], list[DeliveryHandler]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _jobs: dict[str, list[JobHandler]] = field(default_factory=lambda: defaultdict(list))
    _gates: list[DeliveryGate] = field(default_factory=list)

    def gate(self, fn: DeliveryGate) -> DeliveryGate:
        self._gates.append(fn)
        return fn

    def on(self, event: str, *actions: str) -> Callable[[DeliveryHandler], DeliveryHandler]:
        """Register for `event` with the given actions (none: every action of it)."""

        def register(handler: DeliveryHandler) -> DeliveryHandler:
            for action in actions or (None,):
                self._deliveries[(event, action)].append(handler)
            return handler

        return register

    def job(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        def register(handler: JobHandler) -> JobHandler:
            self._jobs[kind].append(handler)
            return handler

        return register

    def include(self, other: Router) -> None:
        for key, handlers in other._deliveries.items():
            self._deliveries[key].extend(handlers)
        for kind, job_handlers in other._jobs.items():
            self._jobs[kind].extend(job_handlers)
        self._gates.extend(other._gates)

    def delivery_handlers(self, event: str, action: str | None) -> list[DeliveryHandler]:
        return [
            *self._deliveries.get((event, action), []),
            *self._deliveries.get((event, None), []),
        ]

    def handles(self, event: str, action: str | None) -> bool:
        return bool(self.delivery_handlers(event, action))

    def handled_events(self) -> set[str]:
        return {event for event, _ in self._deliveries}

    def job_kinds(self) -> set[str]:
        return set(self._jobs)

    async def skip_reason(self, ctx: HandlerContext, delivery: DeliveryEvent) -> str | None:
        for gate in self._gates:
            reason = await gate(ctx, delivery)
            if reason:
                return reason
        return None

    async def dispatch_delivery(self, ctx: HandlerContext, delivery: DeliveryEvent) -> int:
        return await _run_all(
            self.delivery_handlers(delivery.event, delivery.action),
            lambda h: h(ctx, delivery),
        )

    async def dispatch_job(
        self, ctx: HandlerContext, kind: str, payload: dict[str, Any], job_id: int
    ) -> int:
        handlers = self._jobs.get(kind, [])
        if not handlers:
            raise LookupError(f"no handler for job kind {kind!r}")
        return await _run_all(handlers, lambda h: h(ctx, payload, job_id))


async def _run_all(handlers: list[Any], call: Callable[[Any], Awaitable[None]]) -> int:
    errors: list[tuple[str, BaseException]] = []
    for handler in handlers:
        name = getattr(handler, "__qualname__", repr(handler))
        try:
            await call(handler)
        except Exception as exc:
            log.exception("handler %s failed", name)
            errors.append((name, exc))
    if errors:
        raise HandlerErrors(errors)
    return len(handlers)
