"""Facts about the sources that the report states next to the metrics: freshness and moves.

``source_facts`` joins the pipeline's freshness rows (:mod:`pulse.reports.freshness`) with the error
message of a failed last sync, so the Summary can warn when data is stale or the last sync failed.
``moved_items`` lists items whose key changed at the source (a move to another project) in the
week before the report.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from pulse.reports.freshness import facts_frame
from pulse.store import Store, schema
from pulse.store.status import source_status


def source_facts(
    store: Store, freshness: pd.DataFrame | None, kinds: dict[str, str]
) -> pd.DataFrame:
    """One row per source: the pipeline's freshness plus the error of a failed last run."""
    return facts_frame(freshness, kinds, source_status(store))


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
