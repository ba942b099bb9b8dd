"""derived-analysis cache for the ad hoc queries

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import pulse.store.analysis
import pulse.store.schema

# The cache tables are declared in pulse.store.analysis on the schema's metadata; importing it here
# keeps a schema comparison right whenever migrations run.
_DECLARED = pulse.store.analysis.analysis_runs

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"],
        ["analysis_runs.id"],
        name=op.f(f"fk_{table}_run_id_analysis_runs"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "analysis_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("data_version", sa.String(length=255), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("as_of", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_from", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("point", sa.Boolean(), nullable=False),
        sa.Column("reusable", sa.Boolean(), nullable=False),
        sa.Column("computed_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_runs")),
    )
    op.create_index(
        "ix_analysis_runs_key", "analysis_runs", ["data_version", "config_hash"], unique=False
    )
    op.create_table(
        "analysis_roadmap",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("roadmap_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("target", sa.String(length=10), nullable=True),
        sa.Column("risk", sa.Text(), nullable=True),
        sa.Column("forecast", sa.Text(), nullable=False),
        _run_fk("analysis_roadmap"),
        sa.PrimaryKeyConstraint("run_id", "source", "roadmap_id", name=op.f("pk_analysis_roadmap")),
    )
    op.create_table(
        "analysis_items",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=True),
        sa.Column("parent", sa.Text(), nullable=True),
        sa.Column("parents", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        _run_fk("analysis_items"),
        sa.PrimaryKeyConstraint("run_id", "source", "item_id", name=op.f("pk_analysis_items")),
    )
    op.create_table(
        "analysis_members",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("roadmap_id", sa.String(length=128), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("roadmap_key", sa.String(length=255), nullable=False),
        _run_fk("analysis_members"),
        sa.PrimaryKeyConstraint(
            "run_id", "source", "roadmap_id", "item_id", name=op.f("pk_analysis_members")
        ),
    )
    op.create_index(
        "ix_analysis_members_key", "analysis_members", ["run_id", "roadmap_key"], unique=False
    )
    op.create_table(
        "analysis_teams",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _run_fk("analysis_teams"),
        sa.PrimaryKeyConstraint("run_id", "team", name=op.f("pk_analysis_teams")),
    )


def downgrade() -> None:
    op.drop_table("analysis_teams")
    op.drop_index("ix_analysis_members_key", table_name="analysis_members")
    op.drop_table("analysis_members")
    op.drop_table("analysis_items")
    op.drop_table("analysis_roadmap")
    op.drop_index("ix_analysis_runs_key", table_name="analysis_runs")
    op.drop_table("analysis_runs")
