"""The drill-down of late work: for each roadmap item at risk or off track, its open children
with what a director asks next — status, column, age, who has it, what blocks it — and since
when the item has been off track."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .health import blocker_lookup
from .history import FieldHistory
from .roadmap import RoadmapScope
from .timeutil import whole_days

LATE = ("off track", "at risk")
COLUMNS = [
    "source",
    "roadmap_id",
    "roadmap_key",
    "roadmap_title",
    "roadmap_status",
    "since",
    "item_id",
    "key",
    "title",
    "status",
    "column",
    "age_days",
    "assignee",
    "blocked_by",
    "flagged",
]


def assignees_at(
    cd: ColumnDates,
    changes: pd.DataFrame,
    assignees: pd.DataFrame | None,
    people: pd.DataFrame | None,
) -> np.ndarray:
    """Each item row's assignee at as_of by display name (the person id when the store has no
    name for it; None when unassigned), replayed from the assignee field's history."""
    items = cd.items
    current = np.full(len(items), None, dtype=object)
    if assignees is not None and len(assignees):
        rows = cd.rows_of(assignees)
        ok = rows >= 0
        current[rows[ok]] = assignees["person_id"].astype(object).to_numpy()[ok]
    hist = FieldHistory.build(items, changes, "assignee", current=current, as_of_ms=cd.as_of_ms)
    every = np.arange(len(items), dtype=np.int64)
    ids = hist.value_at(every, np.full(len(items), cd.as_of_ms, dtype=np.int64))
    names: dict[tuple[str, str], str] = {}
    if people is not None and len(people):
        names = {
            (str(s), str(p)): str(n)
            for s, p, n in zip(people["source"], people["person_id"], people["name"], strict=True)
            if isinstance(n, str) and n
        }
    sources = items["source"].astype(str).to_numpy()
    return np.array(
        [
            None if v is None or str(v) == "" else names.get((s, str(v)), str(v))
            for s, v in zip(sources, ids, strict=True)
        ],
        dtype=object,
    )


def late_work(
    snapshot: pd.DataFrame,
    scope: RoadmapScope,
    cd: ColumnDates,
    links: pd.DataFrame,
    blocked: pd.DataFrame,
    assignee: np.ndarray,
    since: pd.DataFrame,
) -> pd.DataFrame:
    """One row per open child of each at-risk or off-track roadmap item (worst items first,
    oldest children first). ``since`` (:func:`track_record.off_track_since`) dates the off-track
    run; ``assignee`` is :func:`assignees_at` by item row; ``blocked``: :func:`blocked_time`."""
    late = snapshot[snapshot["status"].isin(LATE).to_numpy(dtype=bool)]
    late = late.sort_values(["severity", "key"], ascending=[False, True], kind="stable")
    kids = scope.children
    kids = kids[~kids["completed"].to_numpy(dtype=bool)]
    frame = late[["source", "roadmap_id", "key", "title", "status"]].rename(
        columns={"key": "roadmap_key", "title": "roadmap_title", "status": "roadmap_status"}
    )
    frame = frame.merge(
        since.rename(columns={"key": "roadmap_key"}), on=["source", "roadmap_key"], how="left"
    )
    frame["rank"] = np.arange(len(frame))
    frame = frame.merge(kids[["source", "roadmap_id", "row"]], on=["source", "roadmap_id"])
    items = cd.items
    rows = frame["row"].to_numpy(dtype=np.int64)
    frame["item_id"] = items["item_id"].astype(str).to_numpy()[rows]
    frame["key"] = items["key"].astype(str).to_numpy()[rows]
    frame["title"] = items["title"].astype(str).to_numpy()[rows]
    status_at = items["status_at"].to_numpy(dtype=object)[rows]
    now = items["status"].to_numpy(dtype=object)[rows]
    frame["status"] = np.where(pd.isna(status_at), now, status_at)
    frame["column"] = items["column"].to_numpy(dtype=object)[rows]
    committed = items["committed_day"].iloc[rows].reset_index(drop=True)
    age = whole_days(pd.Series(cd.today, index=committed.index), committed)
    frame["age_days"] = age.to_numpy()
    frame["assignee"] = assignee[rows] if len(assignee) else None
    by_key = {
        (str(s), str(k)): i
        for i, (s, k) in enumerate(zip(items["source"], items["key"], strict=True))
    }
    blockers = blocker_lookup(links, cd, by_key)
    pos = items["position"].to_numpy()
    done_idx = items["done_index"].to_numpy()

    def open_blockers(row: int) -> str:
        keys = [k for k, b in blockers.get(row, []) if b < 0 or not (0 <= done_idx[b] <= pos[b])]
        return ", ".join(dict.fromkeys(keys))

    frame["blocked_by"] = [open_blockers(int(r)) for r in rows]
    flagged = blocked.set_index(["source", "item_id"])["flagged_now"]
    keys = pd.MultiIndex.from_arrays([frame["source"], frame["item_id"]])
    frame["flagged"] = flagged.reindex(keys).fillna(False).to_numpy(dtype=bool)
    frame = frame.sort_values(
        ["rank", "age_days", "key"], ascending=[True, False, True], na_position="last"
    )
    return frame[COLUMNS].reset_index(drop=True)
