"""Hand-built frames for the metrics tests: terse constructors with contract dtypes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.workflow import Column, Workflow

WF = Workflow(
    columns=[
        Column("Backlog", ["Backlog", "To Do"]),
        Column("Ready", ["Ready"]),
        Column("In Progress", ["In Progress"]),
        Column("Review", ["Review"]),
        Column("Done", ["Done", "Closed"]),
    ],
    committed="In Progress",
    done="Done",
)


def ts(value: str | None) -> pd.Timestamp | None:
    """A UTC timestamp from text ('2026-03-02 10:00'); None stays None."""
    return None if value is None else pd.Timestamp(value, tz="UTC")


def item(item_id: str, created: str, status: str = "Backlog", **kw: Any) -> dict[str, Any]:
    """One items record with defaults for everything not given."""
    rec: dict[str, Any] = {
        "source": "jira",
        "item_id": item_id,
        "key": kw.pop("key", f"WEB-{item_id}"),
        "project": "WEB",
        "team": "web",
        "type": "Story",
        "is_subtask": False,
        "title": f"item {item_id}",
        "status": status,
        "created": created,
        "estimate": None,
        "parent_key": None,
        "due": None,
        "deleted_at": None,
        "url": f"https://jira.example/browse/WEB-{item_id}",
    }
    rec.update(kw)
    return rec


def items(*records: dict[str, Any]) -> pd.DataFrame:
    """An items frame."""
    return F.build_frame(F.ITEMS, records)


def transitions(*rows: tuple[str, str, str | None, str]) -> pd.DataFrame:
    """A transitions frame from (item_id, at, from_status, to_status) tuples."""
    return F.build_frame(
        F.TRANSITIONS,
        [
            {"source": "jira", "item_id": i, "at": at, "from_status": f, "to_status": t}
            for i, at, f, t in rows
        ],
    )


def changes(*rows: tuple[str, str, str, str | None, str | None]) -> pd.DataFrame:
    """A changes frame from (item_id, at, field, from_value, to_value) tuples."""
    return F.build_frame(
        F.CHANGES,
        [
            {"source": "jira", "item_id": i, "at": at, "field": f, "from_value": a, "to_value": b}
            for i, at, f, a, b in rows
        ],
    )


def frame(spec: F.FrameSpec, *records: dict[str, Any]) -> pd.DataFrame:
    """Any contract frame from records."""
    return F.build_frame(spec, records)
