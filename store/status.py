"""Per-source status for `pulse status`: freshness, counts, fields chosen, last error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pulse.store.engine import Store
from pulse.store.sql import rows
from pulse.store.timestamps import from_stored


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def source_status(store: Store) -> list[dict[str, Any]]:
    """One dict per known source, ready for a table or `--format json`."""
    from sqlalchemy import case, func, select

    from pulse.store import schema
    from pulse.store.runs import last_sync

    items = schema.items
    out = []
    with store.engine.connect() as conn:
        for src in conn.execute(select(schema.sources).order_by(schema.sources.c.name)):
            counts = conn.execute(
                select(
                    func.count().label("all"),
                    func.sum(case((items.c.deleted_at.is_not(None), 1), else_=0)).label("deleted"),
                    func.sum(case((items.c.access_lost_at.is_not(None), 1), else_=0)).label(
                        "access_lost"
                    ),
                    func.sum(case((items.c.archived, 1), else_=0)).label("archived"),
                ).where(items.c.source_id == src.id)
            ).one()
            transitions = conn.execute(
                select(func.count()).where(schema.transitions.c.source_id == src.id)
            ).scalar_one()
            sprints = conn.execute(
                select(func.count()).where(schema.sprints.c.source_id == src.id)
            ).scalar_one()
            ok = last_sync(conn, src.id, "ok")
            last = last_sync(conn, src.id)
            error = last.error if last is not None and last.status != "ok" else None
            out.append(
                {
                    "source": src.name,
                    "kind": src.kind,
                    "deployment": src.deployment,
                    "url": src.url,
                    "user_timezone": src.user_timezone,
                    "last_success": _iso(ok.finished_at) if ok is not None else None,
                    "last_run": _iso(last.started_at) if last is not None else None,
                    "last_status": last.status if last is not None else None,
                    "last_error": error,
                    "items": int(counts.all or 0) - int(counts.deleted or 0),
                    "deleted": int(counts.deleted or 0),
                    "access_lost": int(counts.access_lost or 0),
                    "archived": int(counts.archived or 0),
                    "transitions": int(transitions),
                    "sprints": int(sprints),
                    "fields": json.loads(src.fields) if src.fields else {},
                }
            )
    return out


def data_span(store: Store) -> tuple[datetime | None, datetime | None]:
    """What the store's data covers: its first item's creation and the end of its last
    successful sync (None when it holds no items, or was never synced)."""
    with store.reads() as conn:
        ((first, last),) = rows(
            conn,
            "SELECT (SELECT MIN(created) FROM items), (SELECT MAX(finished_at) FROM sync_runs"
            " WHERE job = 'sync' AND status = 'ok')",
        )
    return (
        None if first is None else from_stored(first),
        None if last is None else from_stored(last),
    )
