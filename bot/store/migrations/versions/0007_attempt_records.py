"""attempt_records: the prompt, answer, outcome and diff of each attempt; live stream progress

Revision ID: 0007_attempt_records
Revises: 0006_job_claim_order
Create Date: 2026-12-06 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_attempt_records"
down_revision: str | None = "0006_job_claim_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_records",
        sa.Column(
            "attempt_id",
            sa.BigInteger(),
            sa.ForeignKey("attempts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("user_prompt", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Attempts made before have no live progress: 0 tokens streamed, never stored.
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(
            sa.Column("streamed_tokens", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("progress_at")
        batch.drop_column("streamed_tokens")
    op.drop_table("attempt_records")
