"""Database tables. One schema for SQLite and PostgreSQL; Alembic migrations mirror it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


def TZDateTime() -> DateTime:
    """Timezone-aware on PostgreSQL; SQLite stores naive UTC, which `aware()` restores."""
    return DateTime(timezone=True)


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Delivery(Base):
    """A webhook delivery as received. Stored before the 202, never edited but for status."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    repository: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    # queued → done | dead | ignored | skipped (not acted on, with reason)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    # sha256 of the raw body: a signed body re-sent under a new delivery id is a replay.
    body_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_deliveries_received_at", "received_at"),
        Index("ux_deliveries_body_sha256", "body_sha256", unique=True),
    )


class Job(Base):
    """A unit of durable work. Claimed with a lease; retried with backoff; dead-lettered."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "delivery", "generate", "ci_fix", …
    delivery_id: Mapped[str | None] = mapped_column(String(100))
    task_id: Mapped[int | None] = mapped_column(BigInteger)
    # Jobs sharing a key never run at once (deliveries for one issue or PR, in order).
    concurrency_key: Mapped[str | None] = mapped_column(String(300))
    # Whose work it is: at most INSTALLATION_MAX_CONCURRENT_JOBS of one installation run at once.
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued → running → done | dead | cancelled (back to queued on failure with backoff)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(TZDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    __table_args__ = (
        # The claim's whole order, so it reads the queue in order (migration 0006).
        Index("ix_jobs_claim", "status", "run_after", "id"),
        Index("ix_jobs_task", "task_id", "status"),
        Index("ix_jobs_concurrency", "concurrency_key", "status"),
        Index("ix_jobs_installation", "installation_id", "status"),
    )


class WorkerBeat(Base):
    """Last heartbeat of each worker, so /readyz can tell whether one is alive."""

    __tablename__ = "worker_beats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Installation(Base):
    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_login: Mapped[str] = mapped_column(String(200))
    account_type: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")  # suspended, deleted
    permissions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    installation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("installations.id"))
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class IssueRun(Base):
    """The app's work on one issue: its status comment and who asked for it."""

    __tablename__ = "issue_runs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))  # the name when last seen: display only
    # GitHub's repository id: names are re-registered by others, ids never (NULL: an old row
    # that matches no delivery).
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    issue_number: Mapped[int] = mapped_column(Integer)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(100))
    triggered_by: Mapped[str | None] = mapped_column(String(100))
    status_comment_id: Mapped[int | None] = mapped_column(BigInteger)
    status_rendered_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    plan_only: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # config problems etc.
    # The issue text a maintainer approved (by labelling, `plan` or `retry`): every task is
    # generated from it, never from text edited afterwards.
    approved_title: Mapped[str | None] = mapped_column(Text)
    approved_body: Mapped[str | None] = mapped_column(Text)
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    # The newest label event acted on (its time, and the events seen at that time), so an
    # old or replayed label event never acts again.
    label_mark_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    label_mark_keys: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "repository_id", "installation_id", "issue_number", name="uq_issue_runs_repository_id"
        ),
    )


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(300))  # repo#issue/ordinal, unique in its run
    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("issue_runs.id"))
    repository: Mapped[str] = mapped_column(String(200))  # display only; look up by id
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    issue_number: Mapped[int] = mapped_column(Integer)
    ordinal: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    task_type: Mapped[str] = mapped_column(String(40))
    depends_on: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(30), default="planned")
    branch: Mapped[str | None] = mapped_column(String(200))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    checks: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ci_fix_attempts: Mapped[int] = mapped_column(Integer, default=0)
    push_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The issue's criteria (acceptance criteria, requirements, …) for its prompt and PR body.
    criteria: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    pr_opened_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    __table_args__ = (
        UniqueConstraint("run_id", "key", name="uq_tasks_run_key"),
        Index("ix_tasks_pr", "repository_id", "pr_number"),
        Index("ix_tasks_head", "repository_id", "head_sha"),
    )


class Transition(Base):
    """Every state change (or refused one) of a task, with its cause."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    cause: Mapped[str | None] = mapped_column(String(200))  # delivery:…, comment:…, job:…
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Attempt(Base):
    """One LLM-backed try at a task: what was sent (by hash), what it cost, how it ended."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id"), index=True)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(30))  # generate, ci_fix, review, retry
    template_id: Mapped[str | None] = mapped_column(String(80))
    template_version: Mapped[int | None] = mapped_column(Integer)
    prompt_hash: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(120))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(30), default="running")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    # Live while the answer streams: output tokens so far and when they were last stored.
    streamed_tokens: Mapped[int] = mapped_column(Integer, default=0)
    progress_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class AttemptRecord(Base):
    """What an attempt sent and got back, kept so a person can see why it failed: the rendered
    prompt, the model's raw answer, the apply outcome with its refusal reasons, the diff and
    the timings. One row per attempt, written by `bot/store/attempt_records.py`, which scrubs
    secrets and cuts each text field at its cap with a visible "cut at N KB" line."""

    __tablename__ = "attempt_records"

    attempt_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
    )
    system_prompt: Mapped[str | None] = mapped_column(Text)
    user_prompt: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    # {"applied": bool, "files": [...], "refused": ["path: reason", ...], "repaired": bool}
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    diff: Mapped[str | None] = mapped_column(Text)
    # {"llm_s": float, "apply_s": float, ...}: seconds per stage
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Event(Base):
    """Progress of the pipeline, one row per stage, for status comments and debugging."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    delivery_id: Mapped[str | None] = mapped_column(String(100))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class CommandRun(Base):
    """A comment command, run at most once per comment id."""

    __tablename__ = "command_runs"

    comment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    repository: Mapped[str] = mapped_column(String(200))
    issue_number: Mapped[int] = mapped_column(Integer)
    user: Mapped[str] = mapped_column(String(100))
    command: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    message: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
