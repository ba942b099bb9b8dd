"""Trello card progress: due completion and checklist counts on items

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("due_complete", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("checklist_done", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("checklist_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("checklist_total")
        batch.drop_column("checklist_done")
        batch.drop_column("due_complete")
