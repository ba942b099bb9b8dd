"""roadmap snapshots and baselines

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import pulse.store.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roadmap_snapshots",
        sa.Column("snapshot_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("roadmap_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("target", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("p50", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("p85", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("p95", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("pct_complete", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_roadmap_snapshots_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_at", "source_id", "roadmap_id", name=op.f("pk_roadmap_snapshots")
        ),
    )
    op.create_table(
        "roadmap_baselines",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("roadmap_id", sa.String(length=128), nullable=False),
        sa.Column("baseline_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("baseline_scope", sa.Integer(), nullable=False),
        sa.Column("baseline_target", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_roadmap_baselines_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "roadmap_id", name=op.f("pk_roadmap_baselines")),
    )


def downgrade() -> None:
    op.drop_table("roadmap_baselines")
    op.drop_table("roadmap_snapshots")
