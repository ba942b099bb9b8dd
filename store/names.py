"""Names a user types, looked up as stored: item keys and version names, ignoring case."""

from __future__ import annotations

from sqlalchemy import func, select

from pulse.store.engine import Store
from pulse.store.schema import items, versions


def keys_and_versions_named(store: Store, value: str) -> set[str]:
    """Item keys and version names equal to ``value`` ignoring case, as stored."""
    upper = value.upper()
    with store.reading() as conn:
        found = set(
            conn.execute(select(items.c.key).where(func.upper(items.c.key) == upper)).scalars()
        )
        names = select(versions.c.name).where(func.upper(versions.c.name) == upper)
        found.update(conn.execute(names).scalars())
    return found
