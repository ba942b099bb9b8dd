"""analysis_stories: each item's story as of the entry's as-of, so `pulse show` reads one row;
analysis_items.row: each work item's `pulse risk` row as JSON, written out without re-encoding

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # entries stored before this table would answer `pulse show` with nothing: drop them
    for table in ("analysis_teams", "analysis_members", "analysis_items", "analysis_roadmap"):
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM analysis_runs")
    op.create_table(
        "analysis_stories",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("workflow", sa.Text(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("committed", sa.String(length=10), nullable=True),
        sa.Column("done", sa.String(length=10), nullable=True),
        sa.Column("cycle_days", sa.Integer(), nullable=True),
        sa.Column("age_days", sa.Integer(), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("epic", sa.Text(), nullable=True),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("entered", sa.Text(), nullable=False),
        sa.Column("sprints", sa.Text(), nullable=False),
        sa.Column("blocked", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysis_runs.id"],
            name=op.f("fk_analysis_stories_run_id_analysis_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "source", "item_id", name=op.f("pk_analysis_stories")),
    )
    op.create_index("ix_analysis_stories_key", "analysis_stories", ["run_id", "key"])
    with op.batch_alter_table("analysis_items") as batch:
        batch.add_column(sa.Column("row", sa.Text(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("analysis_items") as batch:
        batch.drop_column("row")
    op.drop_index("ix_analysis_stories_key", table_name="analysis_stories")
    op.drop_table("analysis_stories")
