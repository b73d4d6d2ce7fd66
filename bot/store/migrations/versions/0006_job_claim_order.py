"""jobs: the claim index holds the claim's whole order (status, run_after, id)

The claim takes the first runnable job in (run_after, id) order. With the index on
(status, run_after) only, the database had to read, filter and sort every queued job to find
the first one: with 10,000 queued, one claim took ~60 ms on PostgreSQL, and claims are taken
in turn, so all workers together drained fewer than ~20 jobs/s however many ran. With id in
the index the claim reads the queue in order and stops at the first job it may run (under
1 ms). SQLite's index entries already ended with the rowid (the id).

Revision ID: 0006_job_claim_order
Revises: 0005_task_criteria
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_job_claim_order"
down_revision: str | None = "0005_task_criteria"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_claim", ["status", "run_after", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_claim", ["status", "run_after"], unique=False)
