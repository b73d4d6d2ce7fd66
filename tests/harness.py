"""Drive the real app as GitHub would: post signed deliveries, then run the queued jobs."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from bot.app import create_app
from bot.jobs.worker import Worker
from bot.settings import Settings
from tests.ingest.helpers import headers_for


@dataclass
class Harness:
    app: Litestar
    client: AsyncTestClient[Litestar]
    settings: Settings

    @property
    def sessions(self) -> Any:
        return self.app.state.sessions

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    async def post(
        self, event: str, payload: dict[str, Any] | bytes, delivery: str | None = None
    ) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        delivery = delivery or str(uuid.uuid4())
        return await self.client.post(
            "/webhooks/github", content=body, headers=headers_for(event, body, delivery)
        )

    async def drain(self) -> int:
        """Run every runnable job (and the jobs those jobs queue) to completion."""
        worker = Worker(self.ctx, self.app.state.router, concurrency=1, worker_id="test-worker")
        return await worker.drain()

    async def deliver(
        self, event: str, payload: dict[str, Any], delivery: str | None = None
    ) -> Any:
        response = await self.post(event, payload, delivery)
        assert response.status_code in (200, 202), response.text
        await self.drain()
        return response


@asynccontextmanager
async def running_app(settings: Settings, **kwargs: Any) -> AsyncIterator[Harness]:
    app = create_app(settings, run_worker=False, **kwargs)
    async with AsyncTestClient(app) as client:
        yield Harness(app=app, client=client, settings=settings)
