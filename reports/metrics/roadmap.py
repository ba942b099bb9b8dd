"""Roadmap items (epics, versions, Trello roadmap cards) and their children as of as_of.

A roadmap item's children are the items whose parent (epics, cards) or fix version (versions)
was that item at as_of, replayed from the ``parent`` / ``fix_version`` history. Sub-tasks and
roadmap-type items are never children. Targets: epic / card due date (``due_date`` history),
version release date. Date-only values (stored as UTC midnight) keep their calendar date; other
instants take their calendar day in the report zone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import estimates_at_as_of, is_type
from .frames import validate_changes, validate_item_versions, validate_versions
from .history import Membership, current_values, due_history
from .timeutil import days_to_utc, local_days

ROADMAP_TYPES: tuple[str, ...] = ("Epic", "Roadmap")
_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class RoadmapScope:
    """Roadmap items and their children at as_of.

    ``roadmap``: roadmap_id, source, kind, key, title, team, project, created, target_day
    (local day), own_done, done_at, started_at, scope, done_children, remaining,
    remaining_points, unestimated_remaining, estimated_children, pct_complete,
    last_child_move_at.
    ``children``: roadmap_id, source, row, item_id, key, team, added_at, committed_at, done_at,
    completed, estimate, position.
    ``members``: the replayed parent / fix-version histories, each with the roadmap row (index
    of ``roadmap``) of every pair, -1 for sets that are no roadmap item: what the track record
    replays at past Mondays (:mod:`pulse.reports.metrics.item_state`).
    """

    roadmap: pd.DataFrame
    children: pd.DataFrame
    members: tuple[tuple[Membership, np.ndarray], ...] = ()


def target_days(values: pd.Series, tz: str) -> pd.Series:
    """Target instants -> calendar days: UTC-midnight values are date-only fields (keep the
    UTC date), any other instant takes its calendar day in the report zone."""
    utc = pd.to_datetime(values, utc=True).dt.as_unit("ns")
    date_only = utc.notna() & (utc == utc.dt.normalize())
    local = local_days(utc, tz)
    plain = utc.dt.tz_localize(None).dt.normalize()
    return plain.where(date_only, local)


def roadmap_scope(
    cd: ColumnDates,
    changes: pd.DataFrame,
    versions: pd.DataFrame,
    item_versions: pd.DataFrame,
    roadmap_types: Collection[str] = ROADMAP_TYPES,
    include_versions: bool = True,
    estimates: pd.Series | None = None,
) -> RoadmapScope:
    """Collect roadmap items and their children as known at cd.as_of."""
    validate_changes(changes)
    validate_versions(versions)
    validate_item_versions(item_versions)
    items = cd.items
    is_roadmap = is_type(items, roadmap_types)
    eligible = ~items["is_subtask"].to_numpy(dtype=bool) & ~is_roadmap
    est = estimates if estimates is not None else estimates_at_as_of(cd, changes)
    as_of_ms = np.full(1, cd.as_of_ms, dtype=np.int64)

    # -- epics and roadmap cards --------------------------------------------------------------
    rm_rows = np.flatnonzero(is_roadmap)
    rm = items.iloc[rm_rows]
    due_hist = due_history(items, changes, cd.as_of_ms)
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
    sets: list[tuple[Membership, str]] = [(mem, "")]
    if include_versions and len(versions):
        vframe, vkids, vmem = _versions(cd, changes, versions, item_versions, eligible, est)
        frames.append(vframe)
        child_frames.append(vkids)
        sets.append((vmem, "version:"))
    roadmap = pd.concat(frames, ignore_index=True)
    children = pd.concat(child_frames, ignore_index=True).drop(columns=["member", "pair"])
    roadmap = _summarise(roadmap, children).reset_index(drop=True)
    ri_of: dict[tuple[str, str], int] = {}
    for i, (s, r, k) in enumerate(
        zip(roadmap["source"], roadmap["roadmap_id"], roadmap["key"], strict=True)
    ):
        ri_of[(str(s), str(r) if str(r).startswith("version:") else str(k))] = i
    source = items["source"].astype(str).to_numpy()
    members = tuple(
        (
            m,
            np.array(
                [
                    ri_of.get((source[int(row)], prefix + str(member)), -1)
                    for row, member in zip(m.pairs["row"], m.pairs["member"], strict=True)
                ],
                dtype=np.int64,
            ),
        )
        for m, prefix in sets
    )
    return RoadmapScope(roadmap, children.reset_index(drop=True), members)


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
) -> tuple[pd.DataFrame, pd.DataFrame, Membership]:
    """Versions as roadmap items, their children from the fix_version history (and it)."""
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
    by_version = kids.groupby(["source", "roadmap_id"])
    team_of = (
        by_version["team"].agg(lambda s: s.value_counts().index[0])
        if len(kids)
        else pd.Series(dtype=object)
    )
    created_of = by_version["added_at"].min() if len(kids) else None
    rid = "version:" + v["version_id"]
    vkeys = roadmap_keys(v["source"], rid)
    frame = pd.DataFrame(
        {
            "roadmap_id": rid.to_numpy(),
            "source": v["source"].astype(str).to_numpy(),
            "kind": "version",
            "key": v["name"].astype(str).to_numpy(),
            "title": v["name"].astype(str).to_numpy(),
            "team": [str(team_of.get(k, p)) for k, p in zip(vkeys, v["project"], strict=True)],
            "project": v["project"].astype(str).to_numpy(),
            "created": (
                created_of.reindex(vkeys).to_numpy()
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
    return frame, kids, mem


def _summarise(roadmap: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """Scope counts, done dates and start per roadmap item."""
    roadmap = roadmap.copy()
    roadmap["own_done_at"] = pd.to_datetime(roadmap["own_done_at"], utc=True)
    roadmap["created"] = pd.to_datetime(roadmap["created"], utc=True)
    g = children.groupby(["source", "roadmap_id"])
    rid = roadmap_keys(roadmap["source"], roadmap["roadmap_id"])

    def per_item(values: pd.Series, empty: float = 0) -> pd.Series:
        return pd.Series(values.reindex(rid).to_numpy(), index=roadmap.index).fillna(empty)

    roadmap["scope"] = per_item(g.size()).astype("int64")
    roadmap["done_children"] = per_item(g["completed"].sum()).astype("int64")
    roadmap["remaining"] = roadmap["scope"] - roadmap["done_children"]
    open_kids = children[~children["completed"].to_numpy(dtype=bool)]
    og = open_kids.groupby(["source", "roadmap_id"])
    roadmap["remaining_points"] = per_item(og["estimate"].sum(), 0.0).astype(float)
    # count() is the estimated children: no Python call per roadmap item
    roadmap["unestimated_remaining"] = per_item(og.size() - og["estimate"].count()).astype("int64")
    roadmap["estimated_children"] = per_item(g["estimate"].count()).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        roadmap["pct_complete"] = np.where(
            roadmap["scope"] > 0, 100.0 * roadmap["done_children"] / roadmap["scope"], np.nan
        )
    all_done = (roadmap["scope"] > 0) & (roadmap["remaining"] == 0)
    child_done_at = _per_roadmap(rid, roadmap.index, g["done_at"].max())
    roadmap["done_at"] = roadmap["own_done_at"].where(
        roadmap["own_done"].to_numpy(dtype=bool), child_done_at.where(all_done)
    )
    roadmap["started_at"] = _per_roadmap(rid, roadmap.index, g["committed_at"].min())
    roadmap["last_child_move_at"] = _per_roadmap(rid, roadmap.index, g["last_move_at"].max())
    roadmap = roadmap.drop(columns=["own_done_at"])
    return roadmap


def roadmap_keys(sources: pd.Series, roadmap_ids: pd.Series) -> pd.MultiIndex:
    """(source, roadmap_id) per row: two sites may both have an issue (or version) 10001."""
    return pd.MultiIndex.from_arrays(
        [sources.astype(str).to_numpy(), roadmap_ids.astype(str).to_numpy()],
        names=["source", "roadmap_id"],
    )


def _per_roadmap(rid: pd.MultiIndex, index: pd.Index, values: pd.Series) -> pd.Series:
    """Per-roadmap timestamps aligned to `rid` (NaT when it has none)."""
    aligned = values.reindex(rid).to_numpy()
    return pd.Series(pd.to_datetime(aligned, utc=True), index=index)


def day_to_instant(days: pd.Series, tz: str) -> pd.Series:
    """Local calendar days -> UTC instants of their local midnight (NaT kept)."""
    return days_to_utc(pd.to_datetime(days), tz)
