"""analysis_items loses `parents`: --due-before reads membership from analysis_members

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _empty_cache() -> None:
    """The cache is derived: empty it rather than carry rows whose shape changed."""
    for table in ("analysis_teams", "analysis_members", "analysis_items", "analysis_roadmap"):
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM analysis_runs")


def upgrade() -> None:
    _empty_cache()
    with op.batch_alter_table("analysis_items") as batch:
        batch.drop_column("parents")


def downgrade() -> None:
    _empty_cache()
    with op.batch_alter_table("analysis_items") as batch:
        batch.add_column(sa.Column("parents", sa.Text(), nullable=False))
