"""Links across tools, resolved: a Trello card that links a Jira issue (an attachment with its
browse URL) shows that issue's state and forecast, and the issue shows the card (the reverse).

A link's other end is looked up in its own source first; a key found there is an ordinary link.
A key found in exactly one other source is a cross-tool link. Its forecast is that of the roadmap
item it is (an epic) or belongs to, as the roadmap snapshot gives it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .roadmap import RoadmapScope

COLUMNS = [
    "source",
    "item_id",
    "key",
    "direction",
    "other_source",
    "other_item_id",
    "other_key",
    "other_title",
    "other_status",
    "other_stage",
    "roadmap_key",
    "roadmap_status",
    "p50",
    "p85",
]


def stages(cd: ColumnDates) -> np.ndarray:
    """Each item row's stage at as_of: not started, in progress, done or unmapped."""
    pos = cd.items["position"].to_numpy()
    done = cd.items["done_index"].to_numpy()
    committed = cd.items["committed_index"].to_numpy()
    return np.select(
        [pos < 0, pos >= done, pos >= committed],
        ["unmapped", "done", "in progress"],
        "not started",
    ).astype(object)


def _roadmap_of(
    scope: RoadmapScope, snapshot: pd.DataFrame
) -> dict[int, tuple[str, str, object, object]]:
    """Item row -> (roadmap key, status, p50, p85) of the roadmap item it is or belongs to
    (an epic or card before a version)."""
    snap = snapshot.set_index(["source", "roadmap_id"])
    rm = scope.roadmap
    out: dict[int, tuple[str, str, object, object]] = {}

    def state(source: str, rid: str, key: str) -> tuple[str, str, object, object]:
        if (source, rid) not in snap.index:
            return (key, "", pd.NaT, pd.NaT)
        r: Any = snap.loc[(source, rid)]
        return (key, str(r["status"]), r["p50"], r["p85"])

    key_of = dict(zip(zip(rm["source"], rm["roadmap_id"], strict=True), rm["key"], strict=True))
    kind_of = dict(zip(zip(rm["source"], rm["roadmap_id"], strict=True), rm["kind"], strict=True))
    kids = scope.children
    order = np.argsort(
        [kind_of.get(k) == "version" for k in zip(kids["source"], kids["roadmap_id"], strict=True)],
        kind="stable",
    )
    for i in order[::-1]:  # epics and cards written last win over versions
        s, rid, row = (
            str(kids["source"].iloc[i]),
            str(kids["roadmap_id"].iloc[i]),
            int(kids["row"].iloc[i]),
        )
        out[row] = state(s, rid, str(key_of.get((s, rid), rid)))
    for s, rid, row in zip(rm["source"], rm["roadmap_id"], rm["row"], strict=True):
        if int(row) >= 0:
            out[int(row)] = state(str(s), str(rid), str(key_of[(s, rid)]))
    return out


def cross_links(
    cd: ColumnDates, links: pd.DataFrame, scope: RoadmapScope, snapshot: pd.DataFrame
) -> pd.DataFrame:
    """Every cross-tool link both ways (``direction`` 'links to' from the linking item, 'linked
    from' on the linked one), with the other end's title, status, stage and forecast."""
    items = cd.items
    sources = items["source"].astype(str).to_numpy()
    keys = items["key"].astype(str).to_numpy()
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    rows = cd.rows_of(links)
    pairs: list[tuple[int, int]] = []
    for r, s, other_key in zip(
        rows, links["source"].astype(str), links["other_key"].astype(str), strict=True
    ):
        if r < 0:
            continue
        found = by_key.get(other_key, [])
        if any(sources[o] == s for o in found):
            continue  # an ordinary link inside one source
        elsewhere = [o for o in found if sources[o] != s]
        if len(elsewhere) == 1:
            pairs.append((int(r), elsewhere[0]))
    pairs = list(dict.fromkeys(pairs))
    if not pairs:
        return pd.DataFrame(columns=COLUMNS)
    stage = stages(cd)
    roadmap = _roadmap_of(scope, snapshot)
    status_at = items["status_at"].to_numpy(dtype=object)
    status_now = items["status"].to_numpy(dtype=object)
    titles = items["title"].astype(str).to_numpy()
    ids = items["item_id"].astype(str).to_numpy()
    none: tuple[str, str, object, object] = ("", "", pd.NaT, pd.NaT)
    out = []
    for a, b in pairs:
        for me, end, direction in ((a, b, "links to"), (b, a, "linked from")):
            rkey, rstatus, p50, p85 = roadmap.get(end, none)
            status = status_at[end] if status_at[end] is not None else status_now[end]
            out.append(
                {
                    "source": sources[me],
                    "item_id": ids[me],
                    "key": keys[me],
                    "direction": direction,
                    "other_source": sources[end],
                    "other_item_id": ids[end],
                    "other_key": keys[end],
                    "other_title": titles[end],
                    "other_status": str(status),
                    "other_stage": str(stage[end]),
                    "roadmap_key": rkey or None,
                    "roadmap_status": rstatus or None,
                    "p50": p50,
                    "p85": p85,
                }
            )
    frame = pd.DataFrame(out, columns=COLUMNS)
    for col in ("p50", "p85"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame
