"""Event handlers, one module per event family; each exports a `router`."""

from __future__ import annotations

from bot.jobs.dispatch import Router


def build_router() -> Router:
    from bot.handlers import (
        checks,
        comments,
        fixes,
        gave_up,
        generate,
        installations,
        issues,
        pulls,
        record,
    )

    router = Router()
    modules = (installations, record, issues, comments, generate, checks, pulls, fixes, gave_up)
    for module in modules:
        router.include(module.router)
    return router
