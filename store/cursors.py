"""Stream cursors: where each stream of a source stopped, saved beside the rows it covers.

A cursor is kept as JSON text; the connectors' typed cursors convert to and from its JSON form
at this boundary, so the stored form stays what every earlier version wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, tuple_

from pulse import clock
from pulse.store.schema import sync_cursors
from pulse.store.writes import upsert


def load_cursor(conn: Connection, source_id: int, stream: str) -> dict[str, Any]:
    """A stream's saved state, or {} when it has never been synced."""
    value = conn.execute(
        select(sync_cursors.c.value).where(
            tuple_(sync_cursors.c.source_id, sync_cursors.c.stream) == (source_id, stream)
        )
    ).scalar()
    return dict(json.loads(value)) if value else {}


def save_cursor(conn: Connection, source_id: int, stream: str, state: Mapping[str, Any]) -> None:
    """Save a stream's state in the caller's transaction, beside the rows it covers."""
    upsert(
        conn,
        sync_cursors,
        [
            {
                "source_id": source_id,
                "stream": stream,
                "value": json.dumps(dict(state), sort_keys=True),
                "updated_at": clock.now(),
            }
        ],
    )
