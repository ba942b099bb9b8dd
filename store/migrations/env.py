"""Alembic environment: migrations run on the connection the store hands over."""

from alembic import context

# These modules declare their tables on the same metadata; importing them lets autogenerate
# see every table.
import pulse.store.analysis
import pulse.store.snapshots  # noqa: F401
from pulse.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
