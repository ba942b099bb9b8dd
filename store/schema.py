"""The normalized store: one schema for Jira issues and Trello cards, their full histories,
the agile structures around them, and the bookkeeping of every sync.

Items are keyed by (source, immutable id); the human key is a mutable attribute because Jira keys
change when an issue moves project. Timestamps are aware UTC datetimes everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    func,
)
from sqlalchemy.engine import Dialect

from pulse.store.timestamps import from_stored, to_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; gives back aware UTC datetimes on every backend.

    SQLite has no time zone type, so without this a round trip would lose the zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_stored(value)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _source_fk() -> Column[int]:
    return Column(
        "source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )


sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("deployment", String(16)),  # cloud | datacenter | trello
    Column("server_title", Text),
    Column("user_timezone", String(64)),
    Column("fields", Text),  # JSON: the custom fields chosen, for `pulse status`
    Column("created_at", UTCDateTime, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    _source_fk(),
    Column("project_id", String(64), primary_key=True),
    Column("key", String(255), nullable=False),
    Column("name", Text),
    Column("accessible", Boolean, nullable=False, default=True),
)

boards = Table(
    "boards",
    metadata,
    _source_fk(),
    Column("board_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", String(16), nullable=False),  # scrum | kanban | simple | trello
    Column("project_key", String(255)),
    Column("estimation_field", String(64)),
    Column("columns", Text),  # JSON: the board's own column configuration
    Column("closed", Boolean, nullable=False, default=False),
)

statuses = Table(
    "statuses",
    metadata,
    _source_fk(),
    Column("status_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("category", String(16)),  # new | indeterminate | done (Jira); Trello lists: None
    Column("board_id", String(64)),  # Trello lists belong to one board
    Column("position", Float),
    Column("closed", Boolean, nullable=False, default=False),
)

people = Table(
    "people",
    metadata,
    _source_fk(),
    Column("person_id", String(128), primary_key=True),
    Column("display_name", Text),
)

items = Table(
    "items",
    metadata,
    _source_fk(),
    Column("item_id", String(64), primary_key=True),
    Column("key", String(255), nullable=False),
    Column("project_key", String(255)),
    Column("board_id", String(64)),
    Column("type", String(64)),
    Column("is_subtask", Boolean, nullable=False, default=False),
    Column("title", Text, nullable=False),
    Column("status", Text),
    Column("status_id", String(64)),
    Column("status_category", String(16)),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime),
    Column("resolved", UTCDateTime),
    Column("assignee_id", String(128)),
    Column("reporter_id", String(128)),
    Column("estimate", Float),
    Column("parent_id", String(64)),
    Column("parent_key", String(255)),
    Column("due", Date),
    Column("start_date", Date),
    Column("target_date", Date),
    Column("due_complete", Boolean),  # Trello: the due date was marked complete
    Column("checklist_done", Integer),  # Trello: checked items over all checklists
    Column("checklist_total", Integer),
    Column("url", Text),
    Column("archived", Boolean, nullable=False, default=False),
    Column("deleted_at", UTCDateTime),
    Column("access_lost_at", UTCDateTime),
    Column("out_of_scope_at", UTCDateTime),
    Column("previous_key", String(255)),
    Column("census_misses", Integer, nullable=False, default=0),
    Column("synced_at", UTCDateTime, nullable=False),
    Index("ix_items_key", "source_id", "key"),
    Index("ix_items_parent", "source_id", "parent_id"),
    Index("ix_items_project", "source_id", "project_key"),
    Index("ix_items_parent_key", "source_id", "parent_key"),
    Index("ix_items_any_key", "key"),
    Index("ix_items_previous_key", "previous_key"),
    Index("ix_items_created", "created"),
)
Index("ix_items_key_upper", func.upper(items.c.key))  # `pulse show api-134` finds API-134


def _history_table(name: str, *extra: Column[Any]) -> Table:
    """Transitions and field changes share a shape: one row per changelog item."""
    return Table(
        name,
        metadata,
        _source_fk(),
        Column("item_id", String(64), primary_key=True),
        Column("change_id", String(64), primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("at", UTCDateTime, nullable=False),
        Column("author_id", String(128)),
        *extra,
    )


transitions = _history_table(
    "transitions",
    Column("from_status", Text),
    Column("to_status", Text),
    Column("from_status_id", String(64)),
    Column("to_status_id", String(64)),
)

changes = _history_table(
    "changes",
    Column("field", String(32), nullable=False),  # estimate sprint flagged parent fix_version ...
    Column("source_field", Text),  # the field as the source names it
    Column("from_value", Text),
    Column("to_value", Text),
    Column("from_string", Text),
    Column("to_string", Text),
)

sprints = Table(
    "sprints",
    metadata,
    _source_fk(),
    Column("sprint_id", String(64), primary_key=True),
    Column("board_id", String(64)),
    Column("name", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("start_at", UTCDateTime),
    Column("end_at", UTCDateTime),
    Column("complete_at", UTCDateTime),
    Column("goal", Text),
)

item_sprints = Table(
    "item_sprints",
    metadata,
    _source_fk(),
    Column("item_id", String(64), primary_key=True),
    Column("sprint_id", String(64), primary_key=True),
)

versions = Table(
    "versions",
    metadata,
    _source_fk(),
    Column("version_id", String(64), primary_key=True),
    Column("project_key", String(255)),
    Column("name", Text, nullable=False),
    Column("released", Boolean, nullable=False, default=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("release_date", Date),
    Column("start_date", Date),
)

item_versions = Table(
    "item_versions",
    metadata,
    _source_fk(),
    Column("item_id", String(64), primary_key=True),
    Column("version_id", String(64), primary_key=True),
)

links = Table(
    "links",
    metadata,
    _source_fk(),
    Column("item_id", String(64), primary_key=True),
    Column("link_id", String(128), primary_key=True),
    Column("direction", String(8), primary_key=True),  # outward: item → other; inward: other → item
    Column("link_type", String(64), nullable=False),  # e.g. Blocks, Relates, jira (Trello → Jira)
    Column("other_item_id", String(64)),
    Column("other_key", String(255)),
    Column("other_url", Text),
)

item_labels = Table(
    "item_labels",
    metadata,
    _source_fk(),
    Column("item_id", String(64), primary_key=True),
    Column("label", String(255), primary_key=True),
)

item_components = Table(
    "item_components",
    metadata,
    _source_fk(),
    Column("item_id", String(64), primary_key=True),
    Column("component", String(255), primary_key=True),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    _source_fk(),
    Column("stream", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON state, committed with the rows it covers
    Column("updated_at", UTCDateTime, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE")),
    Column("job", String(32), nullable=False, default="sync"),  # sync | report | census
    Column("trigger", String(16), nullable=False, default="cli"),  # cli | schedule | demo
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False),  # running | ok | failed | interrupted
    Column("full", Boolean, nullable=False, default=False),
    Column("counts", Text),  # JSON
    Column("requests", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("owner", String(255)),  # host:pid of the process running it (store.run_owner)
    Index("ix_sync_runs_source", "source_id", "started_at"),
)

# Per-item child tables that a re-sync of the item replaces wholesale.
ITEM_CHILD_TABLES = (
    transitions,
    changes,
    item_sprints,
    item_versions,
    links,
    item_labels,
    item_components,
)
