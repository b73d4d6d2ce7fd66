"""jobs.installation_id: a cap on the jobs of one installation running at once

Revision ID: 0004_job_installation
Revises: 0003_identity
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_job_installation"
down_revision: str | None = "0003_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("installation_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_jobs_installation", ["installation_id", "status"], unique=False)
    # Unfinished jobs get their installation now, so the cap holds from the first claim
    # after the upgrade: deliveries from the delivery, task jobs from the task's run.
    op.execute(
        "UPDATE jobs SET installation_id = (SELECT deliveries.installation_id FROM deliveries"
        " WHERE deliveries.delivery_id = jobs.delivery_id)"
        " WHERE jobs.kind = 'delivery' AND jobs.status IN ('queued', 'running')"
    )
    op.execute(
        "UPDATE jobs SET installation_id = (SELECT issue_runs.installation_id FROM tasks"
        " JOIN issue_runs ON issue_runs.id = tasks.run_id WHERE tasks.id = jobs.task_id)"
        " WHERE jobs.task_id IS NOT NULL AND jobs.status IN ('queued', 'running')"
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_installation")
        batch.drop_column("installation_id")
