"""Roadmap items (epics, versions, Trello roadmap cards), their children as of as_of, and forecasts.

A roadmap item's children are the items whose parent (epics, cards) or fix version (versions)
was that item at as_of, replayed from the ``parent`` / ``fix_version`` history. Sub-tasks and
roadmap-type items are never children. Targets: epic / card due date (``due_date`` history),
version release date. Date-only values (stored as UTC midnight) keep their calendar date; other
instants take their calendar day in the report zone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import estimates_at_as_of
from .forecast import PERIOD_DAYS
from .frames import validate_changes, validate_item_versions, validate_versions
from .history import FieldHistory, Membership, current_values
from .timeutil import days_to_utc, local_days, to_ms

ROADMAP_TYPES: tuple[str, ...] = ("Epic", "Roadmap")
Unit = Literal["items", "points"]
_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class RoadmapScope:
    """Roadmap items and their children at as_of.

    ``roadmap``: roadmap_id, source, kind, key, title, team, project, created, target_day
    (local day), own_done, done_at, started_at, scope, done_children, remaining,
    remaining_points, unestimated_remaining, estimated_children, pct_complete, last_child_move_at,
    growth (per-period child additions since it started).
    ``children``: roadmap_id, source, row, item_id, key, team, added_at, committed_at, done_at,
    completed, estimate, position.
    """

    roadmap: pd.DataFrame
    children: pd.DataFrame


def target_days(values: pd.Series, tz: str) -> pd.Series:
    """Target instants -> calendar days: UTC-midnight values are date-only fields (keep the
    UTC date), any other instant takes its calendar day in the report zone."""
    utc = pd.to_datetime(values, utc=True).dt.as_unit("ns")
    date_only = utc.notna() & (utc == utc.dt.normalize())
    local = local_days(utc, tz)
    plain = utc.dt.tz_localize(None).dt.normalize()
    return plain.where(date_only, local)


def _is_type(frame: pd.DataFrame, types: Collection[str]) -> np.ndarray:
    folded = {t.casefold() for t in types}
    return frame["type"].astype(object).map(lambda t: str(t).casefold() in folded).to_numpy(bool)


def roadmap_scope(
    cd: ColumnDates,
    changes: pd.DataFrame,
    versions: pd.DataFrame,
    item_versions: pd.DataFrame,
    roadmap_types: Collection[str] = ROADMAP_TYPES,
    include_versions: bool = True,
    period: Literal["week", "day"] = "week",
    estimates: pd.Series | None = None,
) -> RoadmapScope:
    """Collect roadmap items and their children as known at cd.as_of."""
    validate_changes(changes)
    validate_versions(versions)
    validate_item_versions(item_versions)
    items = cd.items
    is_roadmap = _is_type(items, roadmap_types)
    eligible = ~items["is_subtask"].to_numpy(dtype=bool) & ~is_roadmap
    est = estimates if estimates is not None else estimates_at_as_of(cd, changes)
    as_of_ms = np.full(1, cd.as_of_ms, dtype=np.int64)

    # -- epics and roadmap cards --------------------------------------------------------------
    rm_rows = np.flatnonzero(is_roadmap)
    rm = items.iloc[rm_rows]
    due_hist = FieldHistory.build(
        items,
        changes,
        "due_date",
        current=items["due"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    due_now = due_hist.value_at(rm_rows, np.repeat(as_of_ms, len(rm_rows)))
    due_series = pd.to_datetime(pd.Series(due_now, dtype=object), utc=True, errors="coerce")
    pos = rm["position"].to_numpy()
    own_done = (pos >= 0) & (pos >= rm["done_index"].to_numpy())
    epic_frame = pd.DataFrame(
        {
            "roadmap_id": rm["item_id"].astype(str).to_numpy(),
            "source": rm["source"].astype(str).to_numpy(),
            # Trello roadmap cards carry the type "Roadmap"; sources are named by users.
            "kind": np.where(rm["type"].astype(str).to_numpy() == "Roadmap", "card", "epic"),
            "key": rm["key"].astype(str).to_numpy(),
            "title": rm["title"].astype(str).to_numpy(),
            "team": rm["team"].astype(str).to_numpy(),
            "project": rm["project"].astype(str).to_numpy(),
            "created": rm["created"].to_numpy(),
            "target_day": target_days(due_series, cd.tz).to_numpy(),
            "own_done": own_done,
            "own_done_at": np.where(own_done, rm["done_at"].to_numpy(), np.datetime64("NaT")),
            "own_committed": (pos >= 0) & (pos >= rm["committed_index"].to_numpy()),
            "row": rm_rows,
        }
    )

    # -- children by parent key ---------------------------------------------------------------
    parent_current = items["parent_key"].astype(object).where(items["parent_key"].notna(), "")
    keys = set(rm["key"].astype(str))
    mem = Membership.build(
        items, changes, "parent", parent_current.to_numpy(), eligible, cd.as_of_ms, keys
    )
    kids = _children(cd, mem, est)
    key_to_id = {
        (s, k): i
        for s, k, i in zip(
            epic_frame["source"], epic_frame["key"], epic_frame["roadmap_id"], strict=True
        )
    }
    kids["roadmap_id"] = [
        key_to_id.get((s, m)) for s, m in zip(kids["source"], kids["member"], strict=True)
    ]
    kids = kids[kids["roadmap_id"].notna()]

    frames = [epic_frame]
    child_frames = [kids]
    if include_versions and len(versions):
        vframe, vkids = _versions(cd, changes, versions, item_versions, eligible, est)
        frames.append(vframe)
        child_frames.append(vkids)
    roadmap = pd.concat(frames, ignore_index=True)
    children = pd.concat(child_frames, ignore_index=True).drop(columns=["member", "pair"])
    roadmap = _summarise(roadmap, children, cd, period)
    return RoadmapScope(roadmap.reset_index(drop=True), children.reset_index(drop=True))


def _children(cd: ColumnDates, mem: Membership, est: pd.Series) -> pd.DataFrame:
    """Pairs whose item is in the set at as_of, with the child's flow fields."""
    pairs = mem.pairs
    pair_ids = pairs["pair"].to_numpy(dtype=np.int64)
    now = np.full(len(pairs), cd.as_of_ms, dtype=np.int64)
    inside = mem.member_at(pair_ids, now)
    lo = np.full(len(pairs), _NAT + 1, dtype=np.int64)
    added = mem.last_enter(lo, now)
    sel = pairs[inside].copy().reset_index(drop=True)
    rows = sel["row"].to_numpy(dtype=np.int64)
    items = cd.items
    added_ms = added[inside]
    sel["source"] = items["source"].astype(str).to_numpy()[rows]
    sel["item_id"] = items["item_id"].astype(str).to_numpy()[rows]
    sel["key"] = items["key"].astype(str).to_numpy()[rows]
    sel["team"] = items["team"].astype(str).to_numpy()[rows]
    sel["added_at"] = pd.to_datetime(
        np.where(added_ms == _NAT, _NAT, added_ms * 1_000_000).astype("datetime64[ns]")
    ).tz_localize("UTC")
    sel["committed_at"] = items["committed_at"].iloc[rows].to_numpy(dtype="datetime64[ns]")
    sel["done_at"] = items["done_at"].iloc[rows].to_numpy(dtype="datetime64[ns]")
    sel["completed"] = items["completed"].to_numpy(dtype=bool)[rows]
    sel["estimate"] = est.to_numpy()[rows]
    sel["position"] = items["position"].to_numpy()[rows]
    sel["last_move_at"] = items["last_move_at"].iloc[rows].to_numpy(dtype="datetime64[ns]")
    for col in ("committed_at", "done_at", "last_move_at"):
        sel[col] = pd.to_datetime(sel[col]).dt.tz_localize("UTC")
    return sel.reset_index(drop=True)


def _versions(
    cd: ColumnDates,
    changes: pd.DataFrame,
    versions: pd.DataFrame,
    item_versions: pd.DataFrame,
    eligible: np.ndarray,
    est: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Versions as roadmap items, their children from the fix_version history."""
    items = cd.items
    ids = set(versions["version_id"].astype(str))
    current = current_values(items, item_versions, "version_id")
    mem = Membership.build(items, changes, "fix_version", current, eligible, cd.as_of_ms, ids)
    kids = _children(cd, mem, est)
    kids["roadmap_id"] = "version:" + kids["member"].astype(str)
    v = versions.copy()
    v["version_id"] = v["version_id"].astype(str)
    release = pd.to_datetime(v["release_date"], utc=True)
    released = (
        v["released"].to_numpy(dtype=bool)
        & release.notna().to_numpy()
        & (release <= cd.as_of).to_numpy(dtype=bool)
    )
    team_of = (
        kids.groupby("roadmap_id")["team"].agg(lambda s: s.value_counts().index[0])
        if len(kids)
        else pd.Series(dtype=object)
    )
    created_of = kids.groupby("roadmap_id")["added_at"].min() if len(kids) else None
    rid = "version:" + v["version_id"]
    frame = pd.DataFrame(
        {
            "roadmap_id": rid.to_numpy(),
            "source": v["source"].astype(str).to_numpy(),
            "kind": "version",
            "key": v["name"].astype(str).to_numpy(),
            "title": v["name"].astype(str).to_numpy(),
            "team": [str(team_of.get(r, p)) for r, p in zip(rid, v["project"], strict=True)],
            "project": v["project"].astype(str).to_numpy(),
            "created": (
                rid.map(created_of).to_numpy()
                if created_of is not None
                else np.full(len(v), np.datetime64("NaT", "ns"))
            ),
            "target_day": target_days(release, cd.tz).to_numpy(),
            "own_done": released,
            "own_done_at": np.where(released, release.to_numpy(), np.datetime64("NaT")),
            "own_committed": False,
            "row": -1,
        }
    )
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    frame["own_done_at"] = pd.to_datetime(frame["own_done_at"], utc=True)
    return frame, kids


def _summarise(
    roadmap: pd.DataFrame, children: pd.DataFrame, cd: ColumnDates, period: str
) -> pd.DataFrame:
    """Scope counts, done dates, start and growth history per roadmap item."""
    roadmap = roadmap.copy()
    roadmap["own_done_at"] = pd.to_datetime(roadmap["own_done_at"], utc=True)
    roadmap["created"] = pd.to_datetime(roadmap["created"], utc=True)
    g = children.groupby("roadmap_id")
    scope = g.size()
    done_n = g["completed"].sum()
    rid = roadmap["roadmap_id"]
    roadmap["scope"] = rid.map(scope).fillna(0).astype("int64")
    roadmap["done_children"] = rid.map(done_n).fillna(0).astype("int64")
    roadmap["remaining"] = roadmap["scope"] - roadmap["done_children"]
    open_kids = children[~children["completed"].to_numpy(dtype=bool)]
    og = open_kids.groupby("roadmap_id")
    roadmap["remaining_points"] = rid.map(og["estimate"].sum()).fillna(0.0).astype(float)
    roadmap["unestimated_remaining"] = (
        rid.map(og["estimate"].apply(lambda s: int(s.isna().sum()))).fillna(0).astype("int64")
    )
    roadmap["estimated_children"] = (
        rid.map(g["estimate"].apply(lambda s: int(s.notna().sum()))).fillna(0).astype("int64")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        roadmap["pct_complete"] = np.where(
            roadmap["scope"] > 0, 100.0 * roadmap["done_children"] / roadmap["scope"], np.nan
        )
    all_done = (roadmap["scope"] > 0) & (roadmap["remaining"] == 0)
    child_done_at = _per_roadmap(rid, g["done_at"].max())
    roadmap["done_at"] = roadmap["own_done_at"].where(
        roadmap["own_done"].to_numpy(dtype=bool), child_done_at.where(all_done)
    )
    roadmap["started_at"] = _per_roadmap(rid, g["committed_at"].min())
    roadmap["last_child_move_at"] = _per_roadmap(rid, g["last_move_at"].max())
    roadmap["growth"] = pd.Series(_growth(roadmap, children, cd, period), dtype=object).to_numpy()
    roadmap = roadmap.drop(columns=["own_done_at"])
    return roadmap


def _per_roadmap(rid: pd.Series, values: pd.Series) -> pd.Series:
    """Per-roadmap timestamps aligned to `rid` (NaT when it has none).

    `Series.map` cannot look up in an empty datetime Series on pandas 3 (no children at all).
    """
    aligned = values.reindex(rid.to_numpy()).to_numpy()
    return pd.Series(pd.to_datetime(aligned, utc=True), index=rid.index)


def _growth(
    roadmap: pd.DataFrame, children: pd.DataFrame, cd: ColumnDates, period: str
) -> list[np.ndarray]:
    """Per roadmap item, children added per complete period since it started (oldest first)."""
    step = PERIOD_DAYS[period] * 86_400_000
    start_ms = to_ms(roadmap["started_at"])
    index = {r: i for i, r in enumerate(roadmap["roadmap_id"])}
    out = [np.zeros(0) for _ in range(len(roadmap))]
    added = to_ms(children["added_at"])
    owner = np.array([index.get(r, -1) for r in children["roadmap_id"]], dtype=np.int64)
    for i, s in enumerate(start_ms):
        if s == _NAT:
            continue
        periods = (cd.as_of_ms - s) // step
        if periods <= 0:
            continue
        mine = (owner == i) & (added > s)
        bucket = (added[mine] - s) // step
        bucket = bucket[bucket < periods]
        out[i] = np.bincount(bucket, minlength=int(periods)).astype(np.float64)
    return out


def forecast_plan(scope: RoadmapScope, unit: Unit = "items") -> pd.DataFrame:
    """Forecast input per open roadmap item: remaining work, in-progress flag, rank, growth."""
    rm = scope.roadmap
    open_rm = rm[rm["done_at"].isna()].copy()
    remaining = open_rm["remaining_points"] if unit == "points" else open_rm["remaining"]
    started = open_rm["started_at"].notna() | open_rm["own_committed"].astype(bool)
    target = pd.to_datetime(open_rm["target_day"])
    order = (
        pd.DataFrame({"t": target.fillna(pd.Timestamp.max), "c": open_rm["created"]})
        .sort_values(["t", "c"], kind="stable")
        .index
    )
    ranks = pd.Series(np.arange(len(order)), index=order)
    return pd.DataFrame(
        {
            "roadmap_id": open_rm["roadmap_id"].to_numpy(),
            "team": open_rm["team"].to_numpy(),
            "remaining": remaining.to_numpy(dtype=np.float64),
            "started": started.to_numpy(dtype=bool),
            "rank": ranks.reindex(open_rm.index).to_numpy(),
            "growth": list(open_rm["growth"]),
        }
    )


def day_to_instant(days: pd.Series, tz: str) -> pd.Series:
    """Local calendar days -> UTC instants of their local midnight (NaT kept)."""
    return days_to_utc(pd.to_datetime(days), tz)
