"""What handlers receive besides the event: settings, database, GitHub and LLM factories.

Passed as an argument to every handler (no globals), so tests build one around the simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.settings import Settings
from bot.store.db import SessionFactory


@dataclass
class HandlerContext:
    settings: Settings
    sessions: SessionFactory
    # bot.github.access.GitHubAccess (None: the app has no credentials yet).
    github: Any = None
    # (provider, base_url, api_key, model) → a bot.llm client; tests inject recorded ones.
    llm_factory: Callable[..., Any] | None = None
    # Set when new jobs are queued so an idle in-process worker claims them at once.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
