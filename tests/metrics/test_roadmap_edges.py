"""Roadmap edge cases met in real stores: no children at all, Trello roadmap cards."""

from __future__ import annotations

import pandas as pd

from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.roadmap import roadmap_scope
from pulse.reports.metrics.workflow import Column, Workflow

FLOW = Workflow(
    columns=[Column("Backlog", ["Ideas"]), Column("Doing", ["Doing"]), Column("Done", ["Done"])],
    committed="Doing",
    done="Done",
)
AS_OF = pd.Timestamp("2026-11-20T12:00Z")


def _items(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {
        "source": "design-trello",
        "project": "Design Roadmap",
        "team": "Design",
        "is_subtask": False,
        "status": "Doing",
        "created": pd.Timestamp("2026-10-01T09:00Z"),
        "estimate": float("nan"),
        "parent_key": None,
        "due": pd.Timestamp("2026-12-01T00:00Z"),
        "deleted_at": pd.NaT,
        "url": "https://trello.com/c/x",
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    for column in ("created", "due", "deleted_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def test_roadmap_items_without_any_children_and_trello_cards_are_cards() -> None:
    items = _items(
        [
            {"item_id": "c1", "key": "ab12CD34", "type": "Roadmap", "title": "New onboarding"},
            {"item_id": "c2", "key": "ef56GH78", "type": "Roadmap", "title": "Brand refresh"},
        ]
    )
    transitions = pd.DataFrame(
        {
            "source": pd.Series([], dtype=object),
            "item_id": pd.Series([], dtype=object),
            "at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "from_status": pd.Series([], dtype=object),
            "to_status": pd.Series([], dtype=object),
        }
    )
    dates = column_dates(items, transitions, FLOW, AS_OF, "UTC")
    empty_changes = pd.DataFrame(
        {
            "source": pd.Series([], dtype=object),
            "item_id": pd.Series([], dtype=object),
            "at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "field": pd.Series([], dtype=object),
            "from_value": pd.Series([], dtype=object),
            "to_value": pd.Series([], dtype=object),
        }
    )
    empty_versions = pd.DataFrame(
        {
            "source": pd.Series([], dtype=object),
            "version_id": pd.Series([], dtype=object),
            "project": pd.Series([], dtype=object),
            "name": pd.Series([], dtype=object),
            "released": pd.Series([], dtype=bool),
            "release_date": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )
    empty_members = pd.DataFrame(
        {
            "source": pd.Series([], dtype=object),
            "item_id": pd.Series([], dtype=object),
            "version_id": pd.Series([], dtype=object),
        }
    )
    scope = roadmap_scope(dates, empty_changes, empty_versions, empty_members)
    roadmap = scope.roadmap.set_index("key")
    assert list(roadmap.loc[["ab12CD34", "ef56GH78"], "kind"]) == ["card", "card"]
    assert (roadmap["scope"] == 0).all()
    assert roadmap["started_at"].isna().all()
