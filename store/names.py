"""Names a user types, looked up as stored: item keys and version names, ignoring case."""

from __future__ import annotations

from pulse.store.engine import Store
from pulse.store.sql import rows


def keys_and_versions_named(store: Store, value: str) -> set[str]:
    """Item keys and version names equal to ``value`` ignoring case, as stored."""
    with store.reads() as conn:
        found = rows(
            conn,
            "SELECT key FROM items WHERE UPPER(key) = :upper"
            " UNION SELECT name FROM versions WHERE UPPER(name) = :upper",
            upper=value.upper(),
        )
    return {str(v) for (v,) in found}
