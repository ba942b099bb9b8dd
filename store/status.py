"""Per-source status for `pulse status`: freshness, counts, fields chosen, last error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from pulse.store import Store, schema


def _last_run(conn: Connection, source_id: int, status: str | None = None) -> Any:
    runs = schema.sync_runs
    query = select(runs).where(runs.c.source_id == source_id, runs.c.job == "sync")
    if status is not None:
        query = query.where(runs.c.status == status)
    return conn.execute(query.order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(1)).first()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def source_status(store: Store) -> list[dict[str, Any]]:
    """One dict per known source, ready for a table or `--format json`."""
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
            ok = _last_run(conn, src.id, "ok")
            last = _last_run(conn, src.id)
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
    runs = schema.sync_runs
    with store.engine.connect() as conn:
        first = conn.execute(select(func.min(schema.items.c.created))).scalar_one()
        last = conn.execute(
            select(func.max(runs.c.finished_at)).where(runs.c.job == "sync", runs.c.status == "ok")
        ).scalar_one()
    return first, last
