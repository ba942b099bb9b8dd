"""Facts about the sources that the report states next to the metrics: freshness and moves.

``source_facts`` joins the pipeline's freshness rows (:mod:`pulse.reports.freshness`) with the error
message of a failed last sync, so the Summary can warn when data is stale or the last sync failed.
``moved_items`` lists items whose key changed at the source (a move to another project) in the
week before the report.
"""

from __future__ import annotations

import pandas as pd

from pulse.reports.freshness import facts_frame
from pulse.store import Store
from pulse.store.item_reads import moved_items as moved_at_source
from pulse.store.status import source_status


def source_facts(
    store: Store, freshness: pd.DataFrame | None, kinds: dict[str, str]
) -> pd.DataFrame:
    """One row per source: the pipeline's freshness plus the error of a failed last run."""
    return facts_frame(freshness, kinds, source_status(store))


def moved_items(store: Store, since: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """Items whose key changed at the source (moved project) and were updated in (since, until]."""
    with store.reading() as conn:
        rows = moved_at_source(conn, since.to_pydatetime(), until.to_pydatetime())
    return pd.DataFrame(
        [
            {
                "check": "moved_at_source",
                "source": source,
                "key": key,
                "item_id": item_id,
                "detail": f"moved at the source: was {previous}",
            }
            for source, item_id, key, previous in rows
        ],
        columns=["check", "source", "key", "item_id", "detail"],
    )
