"""Configured sources: registered on first sight, updated with what a sync learns of them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pulse import clock
from pulse.store.schema import sources


def register_source(conn: Connection, name: str, kind: str, url: str) -> int:
    """The id of a configured source, registering it on first sight."""
    found = conn.execute(select(sources.c.id, sources.c.kind).where(sources.c.name == name)).first()
    if found is not None:
        conn.execute(update(sources).where(sources.c.id == found.id).values(kind=kind, url=url))
        return int(found.id)
    result = conn.execute(
        insert(sources).values(name=name, kind=kind, url=url, created_at=clock.now())
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update_source(conn: Connection, source_id: int, **values: Any) -> None:
    """Record what a sync learnt about its source (deployment, time zone, fields chosen)."""
    if "fields" in values and not isinstance(values["fields"], str):
        values["fields"] = json.dumps(values["fields"], sort_keys=True)
    conn.execute(update(sources).where(sources.c.id == source_id).values(**values))


def source_names(conn: Connection) -> dict[int, str]:
    """Registered source names by id."""
    return {row.id: row.name for row in conn.execute(select(sources.c.id, sources.c.name))}
