"""Facts about the sources that the report states next to the metrics: freshness and moves.

``source_facts`` joins the engine's freshness rows (last success, age, stale) with the outcome of
each source's latest sync run by as_of and its error message, so the Summary can warn when data is
stale or the last sync failed. ``moved_items`` lists items whose key changed at the source (a move
to another project) since the previous report.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from store import Store, schema
from store.status import source_status

FACT_COLUMNS = [
    "source",
    "kind",
    "last_success",
    "age_hours",
    "interval_hours",
    "stale",
    "last_run_failed",
    "last_error",
    "state",
]


def source_facts(
    store: Store,
    freshness: pd.DataFrame | None,
    sync_runs: pd.DataFrame | None,
    kinds: dict[str, str],
) -> pd.DataFrame:
    """One row per source: freshness plus whether the latest run by as_of failed, and why."""
    return facts_frame(freshness, sync_runs, kinds, source_status(store))


def facts_frame(
    freshness: pd.DataFrame | None,
    sync_runs: pd.DataFrame | None,
    kinds: dict[str, str],
    statuses: list[dict[str, Any]],
) -> pd.DataFrame:
    """:func:`source_facts` from its parts: ``statuses`` as :func:`store.status.source_status`."""
    fresh = (
        freshness
        if freshness is not None
        else pd.DataFrame(columns=["source", "last_success", "age_hours", "interval_hours"])
    )
    status = {row["source"]: row for row in statuses}
    latest: dict[str, bool] = {}
    if sync_runs is not None and len(sync_runs):
        ordered = sync_runs.sort_values("finished_at", kind="stable")
        for source, ok in zip(ordered["source"], ordered["succeeded"], strict=True):
            latest[str(source)] = bool(ok)
    rows: list[dict[str, Any]] = []
    names = sorted(set(fresh["source"].astype(str)) | set(kinds))
    by_source = {str(r["source"]): r for r in fresh.to_dict("records")}
    for name in names:
        row = by_source.get(name, {})
        stored = status.get(name, {})
        failed = latest.get(name) is False
        last_success = row.get("last_success", pd.NaT)
        stale = bool(row.get("stale", True))
        error = stored.get("last_error") if failed else None
        if pd.isna(last_success):
            state = "never synced" if not failed else "last sync failed"
        elif failed:
            state = "last sync failed"
        elif stale:
            state = "stale"
        else:
            state = "fresh"
        rows.append(
            {
                "source": name,
                "kind": kinds.get(name) or stored.get("kind") or "",
                "last_success": last_success,
                "age_hours": row.get("age_hours", float("nan")),
                "interval_hours": row.get("interval_hours", float("nan")),
                "stale": stale or failed or pd.isna(last_success),
                "last_run_failed": failed,
                "last_error": error,
                "state": state,
            }
        )
    out = pd.DataFrame(rows, columns=FACT_COLUMNS)
    out["last_success"] = pd.to_datetime(out["last_success"], utc=True)
    return out


def moved_items(store: Store, since: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """Items whose key changed at the source (moved project) and were updated in (since, until]."""
    items, sources = schema.items, schema.sources
    query = (
        select(
            sources.c.name.label("source"),
            items.c.item_id,
            items.c.key,
            items.c.previous_key,
            items.c.updated,
        )
        .join(sources, sources.c.id == items.c.source_id)
        .where(
            items.c.previous_key.is_not(None),
            items.c.previous_key != items.c.key,
            items.c.updated > since.to_pydatetime(),
            items.c.updated <= until.to_pydatetime(),
        )
        .order_by(sources.c.name, items.c.key)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).fetchall()
    return pd.DataFrame(
        [
            {
                "check": "moved_at_source",
                "source": r.source,
                "key": r.key,
                "item_id": r.item_id,
                "detail": f"moved at the source: was {r.previous_key}",
            }
            for r in rows
        ],
        columns=["check", "source", "key", "item_id", "detail"],
    )
