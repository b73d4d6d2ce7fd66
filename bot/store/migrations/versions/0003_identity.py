"""identity: runs and tasks keyed on GitHub's repository id; the approved issue text; label
marks; the sha256 of each delivery's raw body

Revision ID: 0003_identity
Revises: 0002
Create Date: 2026-12-06 06:40:00

Existing runs get the repository id the `repositories` table knows for their name *and*
installation (only an unambiguous match); the rest keep NULL, which no delivery ever matches,
so a new owner of a re-registered name never sees them. Their approved text is left empty:
they keep working from the issue as it is until a maintainer approves it again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_identity"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite reflects 0001's unnamed unique constraints without a name; batch mode names them
# by this convention so they can be dropped. PostgreSQL named them itself.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_names() -> tuple[str, str]:
    if op.get_bind().dialect.name == "postgresql":
        return "issue_runs_repository_issue_number_key", "tasks_key_key"
    return "uq_issue_runs_repository", "uq_tasks_key"


def upgrade() -> None:
    runs_unique, tasks_unique = _unique_names()
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(length=64), nullable=True))
        batch.create_index("ux_deliveries_body_sha256", ["body_sha256"], unique=True)
    with op.batch_alter_table("issue_runs", naming_convention=_SQLITE_NAMES) as batch:
        batch.add_column(sa.Column("repository_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("approved_title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("approved_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("approved_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("label_mark_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("label_mark_keys", sa.JSON(), nullable=True))
        batch.drop_constraint(runs_unique, type_="unique")
        batch.create_unique_constraint(
            "uq_issue_runs_repository_id", ["repository_id", "installation_id", "issue_number"]
        )
    with op.batch_alter_table("tasks", naming_convention=_SQLITE_NAMES) as batch:
        batch.add_column(sa.Column("repository_id", sa.BigInteger(), nullable=True))
        batch.drop_constraint(tasks_unique, type_="unique")
        batch.create_unique_constraint("uq_tasks_run_key", ["run_id", "key"])
        batch.drop_index("ix_tasks_pr")
        batch.create_index("ix_tasks_pr", ["repository_id", "pr_number"], unique=False)
        batch.create_index("ix_tasks_head", ["repository_id", "head_sha"], unique=False)
    op.execute(
        sa.text(
            "UPDATE issue_runs SET repository_id = (SELECT MIN(r.id) FROM repositories r"
            " WHERE r.full_name = issue_runs.repository"
            " AND r.installation_id = issue_runs.installation_id)"
            " WHERE (SELECT COUNT(*) FROM repositories r"
            " WHERE r.full_name = issue_runs.repository"
            " AND r.installation_id = issue_runs.installation_id) = 1"
        )
    )
    op.execute(
        sa.text(
            "UPDATE tasks SET repository_id ="
            " (SELECT ir.repository_id FROM issue_runs ir WHERE ir.id = tasks.run_id)"
        )
    )


def downgrade() -> None:
    runs_unique, tasks_unique = _unique_names()
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_head")
        batch.drop_index("ix_tasks_pr")
        batch.create_index("ix_tasks_pr", ["repository", "pr_number"], unique=False)
        batch.drop_constraint("uq_tasks_run_key", type_="unique")
        batch.create_unique_constraint(tasks_unique, ["key"])
        batch.drop_column("repository_id")
    with op.batch_alter_table("issue_runs") as batch:
        batch.drop_constraint("uq_issue_runs_repository_id", type_="unique")
        batch.create_unique_constraint(runs_unique, ["repository", "issue_number"])
        for column in (
            "label_mark_keys",
            "label_mark_at",
            "approved_at",
            "approved_by",
            "approved_hash",
            "approved_body",
            "approved_title",
            "repository_id",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ux_deliveries_body_sha256")
        batch.drop_column("body_sha256")
