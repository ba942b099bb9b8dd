"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pulse.store.snapshots  # noqa: F401  (declares the snapshot tables on the same metadata)
from pulse.store import Store
from pulse.store.analysis import analysis_runs
from pulse.store.schema import metadata


def test_migrated_store_matches_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_analysis_cache_is_emptied_when_its_shape_changes(store: Store) -> None:
    """0005 drops a cache column: a store at 0004 with an entry upgrades to an empty cache."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func, insert, select

    from pulse.store import open_store
    from pulse.store.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
        conn.execute(
            insert(analysis_runs).values(
                id=1,
                data_version="v",
                config_hash="h",
                as_of=datetime(2026, 11, 2, tzinfo=UTC),
                valid_from=datetime(2026, 11, 1, tzinfo=UTC),
                valid_to=datetime(2026, 11, 3, tzinfo=UTC),
                computed_at=datetime(2026, 11, 2, tzinfo=UTC),
                meta="{}",
            )
        )
    reopened = open_store(store.url)
    try:
        with reopened.engine.connect() as conn:
            runs = conn.execute(select(func.count()).select_from(analysis_runs))
            assert runs.scalar_one() == 0
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        reopened.dispose()
