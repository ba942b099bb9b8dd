"""items indexes for the questions' lookups: by key (any source, any case), previous key,
parent key, project, and the first creation day — each was a full scan of the items

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_items_project": ["source_id", "project_key"],
    "ix_items_parent_key": ["source_id", "parent_key"],
    "ix_items_any_key": ["key"],
    "ix_items_previous_key": ["previous_key"],
    "ix_items_created": ["created"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "items", columns)
    op.create_index("ix_items_key_upper", "items", [sa.text("upper(key)")])


def downgrade() -> None:
    for name in ["ix_items_key_upper", *reversed(INDEXES)]:
        op.drop_index(name, table_name="items")
