"""What handlers receive besides the event: settings, database, GitHub and LLM factories.

Passed as an argument to every handler (no globals), so tests build one around the simulator.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.policy import LLMChoice
from bot.github.access import GitHubAccess
from bot.llm.base import LLMClient
from bot.settings import Settings
from bot.store.db import SessionFactory


class JobMetrics(Protocol):
    """What the pipeline records as it goes (bot/ops/metrics.py implements it)."""

    def job_finished(self, kind: str, seconds: float, outcome: str) -> None: ...

    def llm_call(
        self, model: str | None, input_tokens: int, output_tokens: int, cost: float
    ) -> None: ...


@dataclass
class HandlerContext:
    settings: Settings
    sessions: SessionFactory
    # None: the app has no credentials yet (GET / says what to configure).
    github: GitHubAccess | None = None
    # An LLM client for the endpoint and model chosen; tests inject recorded ones.
    llm_factory: Callable[[LLMChoice], LLMClient] | None = None
    # Set when new jobs are queued so an idle in-process worker claims them at once.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: JobMetrics | None = None
    # Per-process caches a handler keeps between jobs (the repository maps per commit).
    extras: dict[str, Any] = field(default_factory=dict)
    # Seconds on a monotonic clock, for throttles (live progress); tests drive their own.
    clock: Callable[[], float] = time.monotonic

    def require_github(self) -> GitHubAccess:
        """GitHub access, for code that runs only once the app has credentials (handlers of
        deliveries and jobs: a delivery is only accepted with a webhook secret)."""
        if self.github is None:
            raise RuntimeError("the GitHub App is not configured (APP_ID / PRIVATE_KEY missing)")
        return self.github
