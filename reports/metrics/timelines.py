"""Delivery timelines per roadmap item and per delivered item, and time to market."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .frames import validate_item_sprints, validate_item_versions, validate_sprints
from .history import FieldHistory, current_values, scoped, sprint_membership
from .roadmap import RoadmapScope, roadmap_keys, target_days
from .timeutil import local_days, whole_days


def roadmap_timeline(scope: RoadmapScope, forecasts: pd.DataFrame, cd: ColumnDates) -> pd.DataFrame:
    """Per roadmap item: created, first started, done, target, p50/p85 and slip (days).

    slip_days = p85 - target for open items and done - target for done ones (``slip_basis``).
    """
    rm = scope.roadmap
    fc = forecasts.set_index(["source", "roadmap_id"]) if len(forecasts) else None
    out = pd.DataFrame(
        {
            "roadmap_id": rm["roadmap_id"],
            "source": rm["source"],
            "kind": rm["kind"],
            "key": rm["key"],
            "title": rm["title"],
            "team": rm["team"],
            "created_day": local_days(rm["created"], cd.tz),
            "started_day": local_days(rm["started_at"], cd.tz),
            "done_day": local_days(rm["done_at"], cd.tz),
            "target_day": pd.to_datetime(rm["target_day"]),
        }
    )
    for q in ("p50", "p85"):
        values = (
            fc[q].reindex(roadmap_keys(rm["source"], rm["roadmap_id"])).to_numpy()
            if fc is not None and q in fc
            else pd.NaT
        )
        out[q] = pd.to_datetime(pd.Series(values, index=rm.index))
    done = out["done_day"].notna()
    end = out["done_day"].where(done, out["p85"])
    out["slip_days"] = whole_days(end, out["target_day"])
    out["slip_basis"] = np.where(done, "done", "p85")
    return out.reset_index(drop=True)


def _joined_names(pairs: pd.DataFrame, names: dict[str, str]) -> dict[int, str]:
    """Per item row, the names of its (row, member) sprints joined by ', ', sprints in id order
    (shorter ids first: '9' before '10'); one pass over the sorted pairs, no per-row lambda."""
    ordered = pairs.assign(width=pairs["member"].astype(str).str.len()).sort_values(
        ["row", "width", "member"], kind="stable"
    )
    rows = ordered["row"].to_numpy(dtype=np.int64)
    labels = [names[m] for m in ordered["member"].astype(str).to_numpy(dtype=object)]
    out: dict[int, str] = {}
    if not len(rows):
        return out
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        out[int(rows[lo])] = ", ".join(labels[lo:hi])
    return out


def delivered_items(
    cd: ColumnDates,
    changes: pd.DataFrame,
    sprints: pd.DataFrame,
    item_sprints: pd.DataFrame,
    versions: pd.DataFrame,
    item_versions: pd.DataFrame,
) -> pd.DataFrame:
    """Per completed item: created/committed/done days, cycle and lead time, sprints it was in,
    epic and fix versions at as_of, release day and time to market (created -> release)."""
    validate_sprints(sprints)
    validate_item_sprints(item_sprints)
    validate_item_versions(item_versions)
    items = cd.items
    done_rows = np.flatnonzero(items["completed"].to_numpy(dtype=bool))
    eligible = np.zeros(len(items), dtype=bool)
    eligible[done_rows] = True
    names = dict(
        zip(
            scoped(sprints["source"], sprints["sprint_id"]),
            sprints["name"].astype(str),
            strict=True,
        )
    )
    mem = sprint_membership(items, changes, item_sprints, eligible, cd.as_of_ms, set(names))
    ever = mem.pairs[
        pd.Series(mem.ev_member).groupby(mem.ev_pair).any().reindex(mem.pairs["pair"]).to_numpy()
    ]
    sprint_names = _joined_names(ever, names)
    parent = FieldHistory.build(
        items,
        changes,
        "parent",
        current=items["parent_key"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    now = np.full(len(done_rows), cd.as_of_ms, dtype=np.int64)
    epic = parent.value_at(done_rows, now)
    versions_now = FieldHistory.build(
        items,
        changes,
        "fix_version",
        current=current_values(items, item_versions, "version_id"),
        as_of_ms=cd.as_of_ms,
    ).value_at(done_rows, now)
    ttm = time_to_market(cd, versions, versions_now, done_rows)
    sel = items.iloc[done_rows]
    out = pd.DataFrame(
        {
            "source": sel["source"].to_numpy(),
            "item_id": sel["item_id"].to_numpy(),
            "key": sel["key"].to_numpy(),
            "title": sel["title"].to_numpy(),
            "team": sel["team"].to_numpy(),
            "type": sel["type"].to_numpy(),
            "created_day": sel["created_day"].to_numpy(),
            "committed_day": sel["committed_day"].to_numpy(),
            "done_day": sel["done_day"].to_numpy(),
            "cycle_days": sel["cycle_days"].to_numpy(),
            "lead_days": sel["lead_days"].to_numpy(),
            "sprints": [sprint_names.get(int(r), "") for r in done_rows],
            "epic": pd.Series(epic, dtype=object).where(pd.notna(epic), None).to_numpy(),
        }
    )
    out = pd.concat([out, ttm.reset_index(drop=True)], axis=1)
    return out


def time_to_market(
    cd: ColumnDates, versions: pd.DataFrame, fix_versions: np.ndarray, rows: np.ndarray
) -> pd.DataFrame:
    """Per item row: its fix versions, the earliest release day of a version released by as_of,
    and days from created to that release day (time to market)."""
    v = versions.copy()
    v["version_id"] = v["version_id"].astype(str)
    release = pd.to_datetime(v["release_date"], utc=True)
    released = v["released"].to_numpy(dtype=bool) & release.notna().to_numpy()
    released &= (release <= cd.as_of).to_numpy(dtype=bool)
    day = target_days(release, cd.tz)
    rel_day = {i: d for i, d, ok in zip(v["version_id"], day, released, strict=True) if ok}
    name = dict(zip(v["version_id"], v["name"].astype(str), strict=True))
    names, days = [], []
    for value in fix_versions:
        ids = [x.strip() for x in str(value or "").split(",") if x.strip()]
        names.append(", ".join(name.get(i, i) for i in ids))
        shipped = [rel_day[i] for i in ids if i in rel_day]
        days.append(min(shipped) if shipped else pd.NaT)
    created = cd.items["created_day"].to_numpy()[rows]
    release_day = pd.to_datetime(pd.Series(days, dtype=object))
    return pd.DataFrame(
        {
            "versions": names,
            "release_day": release_day,
            "time_to_market_days": whole_days(release_day, pd.Series(pd.to_datetime(created))),
        }
    )
