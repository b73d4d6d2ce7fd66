"""tasks.criteria: the issue's acceptance criteria every task carries to its prompt and PR

Revision ID: 0005_task_criteria
Revises: 0004_job_installation
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_task_criteria"
down_revision: str | None = "0004_job_installation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tasks planned before have none (NULL reads as no criteria); a re-plan fills them in.
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("criteria", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("criteria")
