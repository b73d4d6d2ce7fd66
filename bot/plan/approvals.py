"""The issue text a maintainer approved, stored on its run, and the label events seen.

Decisions live in `core.approval`; this module reads and writes the run row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.approval import (
    EDIT_NOTE_PREFIX,
    advance_mark,
    edit_note,
    github_time,
    is_new_label_event,
    label_event_key,
    text_hash,
    without_edit_notes,
)
from bot.runtime import HandlerContext
from bot.store.models import IssueRun, aware, utcnow

LabelEvent = tuple[datetime | None, str]  # when, and which (core.approval.label_event_key)


def approve(run: IssueRun, title: str | None, body: str | None, by: str) -> None:
    run.approved_title, run.approved_body = title or "", body or ""
    run.approved_hash = text_hash(title, body)
    run.approved_by, run.approved_at = by, utcnow()


async def approve_text(
    ctx: HandlerContext, run_id: int, title: str | None, body: str | None, by: str
) -> bool:
    """A maintainer approves the issue text as it is now (a `retry`, or their own edit).
    Returns whether it differed from what was approved before."""
    async with ctx.sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is None:
            return False
        changed = run.approved_hash != text_hash(title, body)
        approve(run, title, body, by)
        run.notes = without_edit_notes(run.notes or [])
        run.updated_at = utcnow()
        return changed


async def note_ignored_edit(
    ctx: HandlerContext, run_id: int, login: str, at: datetime | None
) -> None:
    """Say on the status comment that an edit is not used (only the newest such note)."""
    async with ctx.sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is not None:
            run.notes = [*without_edit_notes(run.notes or []), edit_note(login, at)]
            run.updated_at = utcnow()


def record_label_mark(run: IssueRun, event: LabelEvent) -> None:
    """The label event was acted on: older ones and its replays no longer act."""
    run.label_mark_at, run.label_mark_keys = advance_mark(
        aware(run.label_mark_at), run.label_mark_keys, *event
    )


async def record_label_event(ctx: HandlerContext, run_id: int, event: LabelEvent) -> None:
    async with ctx.sessions() as session, session.begin():
        run = await session.get(IssueRun, run_id)
        if run is not None:
            record_label_mark(run, event)


def has_edit_note(run: IssueRun) -> bool:
    return any(str(n).startswith(EDIT_NOTE_PREFIX) for n in run.notes or [])


def approved_text(run: IssueRun, live_title: str, live_body: str) -> tuple[str, str]:
    """The text tasks are generated from: what was approved. A run stored before approvals
    were kept has none; it goes on with the issue as it is."""
    if run.approved_hash is None:
        return live_title, live_body
    return run.approved_title or "", run.approved_body or ""


def label_event(action: str, payload: dict[str, Any]) -> LabelEvent:
    """When and which label event this delivery is: the label, the issue, and the issue's
    `updated_at` (GitHub stamps each label change on the issue)."""
    issue = payload.get("issue") or {}
    if action == "opened":
        label = ",".join(
            sorted(str(lb.get("name")) for lb in issue.get("labels") or [] if isinstance(lb, dict))
        )
    else:
        found = payload.get("label") or {}
        label = str(found.get("id") or found.get("name") or "")
    return github_time(issue.get("updated_at")), label_event_key(action, label, issue.get("id"))


def acts(run: IssueRun | None, event: LabelEvent) -> bool:
    """Whether a label event may act on this run: not older than, and not the same as, an
    event already acted on (a replay, or a late delivery)."""
    if run is None:
        return True
    return is_new_label_event(aware(run.label_mark_at), run.label_mark_keys, *event)
