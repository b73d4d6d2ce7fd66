"""jobs.concurrency_key: deliveries for one issue or PR run one at a time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("concurrency_key", sa.String(length=300), nullable=True))
        batch.create_index("ix_jobs_concurrency", ["concurrency_key", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_concurrency")
        batch.drop_column("concurrency_key")
