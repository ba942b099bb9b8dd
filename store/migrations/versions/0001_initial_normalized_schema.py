"""initial normalized schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import pulse.store.schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("deployment", sa.String(length=16), nullable=True),
        sa.Column("server_title", sa.Text(), nullable=True),
        sa.Column("user_timezone", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("created_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "boards",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=True),
        sa.Column("estimation_field", sa.String(length=64), nullable=True),
        sa.Column("columns", sa.Text(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_boards_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "board_id", name=op.f("pk_boards")),
    )
    op.create_table(
        "changes",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.String(length=128), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("source_field", sa.Text(), nullable=True),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("from_string", sa.Text(), nullable=True),
        sa.Column("to_string", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_changes_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id", "item_id", "change_id", "seq", name=op.f("pk_changes")
        ),
    )
    op.create_table(
        "item_components",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_item_components_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id", "item_id", "component", name=op.f("pk_item_components")
        ),
    )
    op.create_table(
        "item_labels",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_item_labels_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "item_id", "label", name=op.f("pk_item_labels")),
    )
    op.create_table(
        "item_sprints",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("sprint_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_item_sprints_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "item_id", "sprint_id", name=op.f("pk_item_sprints")),
    )
    op.create_table(
        "item_versions",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_item_versions_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id", "item_id", "version_id", name=op.f("pk_item_versions")
        ),
    )
    op.create_table(
        "items",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=True),
        sa.Column("board_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("is_subtask", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("status_id", sa.String(length=64), nullable=True),
        sa.Column("status_category", sa.String(length=16), nullable=True),
        sa.Column("created", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.String(length=128), nullable=True),
        sa.Column("reporter_id", sa.String(length=128), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("parent_key", sa.String(length=255), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("access_lost_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("out_of_scope_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("previous_key", sa.String(length=255), nullable=True),
        sa.Column("census_misses", sa.Integer(), nullable=False),
        sa.Column("synced_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_items_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "item_id", name=op.f("pk_items")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_key", ["source_id", "key"], unique=False)
        batch_op.create_index("ix_items_parent", ["source_id", "parent_id"], unique=False)

    op.create_table(
        "links",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("link_type", sa.String(length=64), nullable=False),
        sa.Column("other_item_id", sa.String(length=64), nullable=True),
        sa.Column("other_key", sa.String(length=255), nullable=True),
        sa.Column("other_url", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_links_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id", "item_id", "link_id", "direction", name=op.f("pk_links")
        ),
    )
    op.create_table(
        "people",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_people_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "person_id", name=op.f("pk_people")),
    )
    op.create_table(
        "projects",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_projects_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "project_id", name=op.f("pk_projects")),
    )
    op.create_table(
        "sprints",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("sprint_id", sa.String(length=64), nullable=False),
        sa.Column("board_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("complete_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_sprints_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "sprint_id", name=op.f("pk_sprints")),
    )
    op.create_table(
        "statuses",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("status_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("board_id", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Float(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_statuses_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "status_id", name=op.f("pk_statuses")),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_sync_cursors_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "stream", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", pulse.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_sync_runs_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_runs_source", ["source_id", "started_at"], unique=False)

    op.create_table(
        "transitions",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", pulse.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.String(length=128), nullable=True),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=True),
        sa.Column("from_status_id", sa.String(length=64), nullable=True),
        sa.Column("to_status_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_transitions_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "source_id", "item_id", "change_id", "seq", name=op.f("pk_transitions")
        ),
    )
    op.create_table(
        "versions",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_versions_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "version_id", name=op.f("pk_versions")),
    )


def downgrade() -> None:
    op.drop_table("versions")
    op.drop_table("transitions")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_runs_source")

    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
    op.drop_table("statuses")
    op.drop_table("sprints")
    op.drop_table("projects")
    op.drop_table("people")
    op.drop_table("links")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_parent")
        batch_op.drop_index("ix_items_key")

    op.drop_table("items")
    op.drop_table("item_versions")
    op.drop_table("item_sprints")
    op.drop_table("item_labels")
    op.drop_table("item_components")
    op.drop_table("changes")
    op.drop_table("boards")
    op.drop_table("sources")
