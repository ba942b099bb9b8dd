"""Data freshness (last successful sync per source) and data-quality findings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import estimates_at_as_of, is_type
from .frames import validate_items, validate_sync_runs
from .history import FieldHistory, Membership, current_values
from .roadmap import ROADMAP_TYPES, RoadmapScope
from .sprints import sprints_at
from .timeutil import as_utc


def _records(frame: pd.DataFrame) -> list[Any]:
    """Rows as named tuples (typed loosely for mypy)."""
    return list(frame.itertuples(index=False))


FRESHNESS_COLUMNS = [
    "source",
    "last_success",
    "age_hours",
    "interval_hours",
    "covered",
    "last_run_failed",
    "stale",
    "state",
]


def freshness(
    sync_runs: pd.DataFrame, intervals: Mapping[str, timedelta], as_of: pd.Timestamp
) -> pd.DataFrame:
    """Per source, as of the report's day (METRICS §7): last successful sync by as_of, its age,
    whether a later successful sync covers as_of, whether the latest run by as_of failed, and a
    state: ``fresh``, ``stale`` (older than twice the sync interval), ``last sync failed`` or
    ``never synced``. A source whose history a later sync covers is fresh: a past report never
    calls a source that has synced stale."""
    validate_sync_runs(sync_runs)
    as_of = as_utc(as_of)
    ok = sync_runs["succeeded"].to_numpy(dtype=bool)
    before = (sync_runs["finished_at"] <= as_of).to_numpy()
    source = sync_runs["source"].astype(str)
    last = sync_runs[ok & before].groupby(source[ok & before])["finished_at"].max()
    covered = set(source[ok & ~before])
    runs = sync_runs[before].sort_values("finished_at", kind="stable")
    latest_ok = dict(zip(runs["source"].astype(str), runs["succeeded"].astype(bool), strict=True))
    rows = []
    for name in sorted(set(intervals) | set(source)):
        when = last.get(name, pd.NaT)
        interval = intervals.get(name)
        age = (as_of - when) if pd.notna(when) else None
        is_covered = name in covered
        failed = latest_ok.get(name) is False and not is_covered
        old = age is None or (interval is not None and age > 2 * interval)
        if is_covered:
            state = "fresh"
        elif failed:
            state = "last sync failed"
        elif age is None:
            state = "never synced"
        else:
            state = "stale" if old else "fresh"
        rows.append(
            {
                "source": name,
                "last_success": when,
                "age_hours": age.total_seconds() / 3600 if age is not None else np.nan,
                "interval_hours": interval.total_seconds() / 3600 if interval else np.nan,
                "covered": is_covered,
                "last_run_failed": failed,
                "stale": state != "fresh",
                "state": state,
            }
        )
    out = pd.DataFrame(rows, columns=FRESHNESS_COLUMNS)
    out["last_success"] = pd.to_datetime(out["last_success"], utc=True)
    return out


COLUMNS = ["check", "source", "key", "item_id", "detail"]


def _issues(check: str, items: pd.DataFrame, rows: np.ndarray, details: list[str]) -> pd.DataFrame:
    """Findings about item rows, one per row."""
    return pd.DataFrame(
        {
            "check": check,
            "source": items["source"].astype(object).to_numpy()[rows],
            "key": items["key"].astype(object).to_numpy()[rows],
            "item_id": items["item_id"].astype(object).to_numpy()[rows],
            "detail": details,
        },
        columns=COLUMNS,
    )


def _issue(check: str, source: Any, key: Any, item_id: Any, detail: str) -> dict[str, Any]:
    return {"check": check, "source": source, "key": key, "item_id": item_id, "detail": detail}


def data_quality(
    cd: ColumnDates,
    changes: pd.DataFrame,
    sprints: pd.DataFrame,
    item_sprints: pd.DataFrame,
    scope: RoadmapScope | None = None,
    all_items: pd.DataFrame | None = None,
    deleted_since: pd.Timestamp | None = None,
    roadmap_types: Collection[str] = ROADMAP_TYPES,
) -> pd.DataFrame:
    """Findings: unmapped statuses, unestimated items in open sprints, open items without epic,
    open roadmap items without target, items deleted at the source since ``deleted_since``."""
    out: list[dict[str, Any]] = []
    parts: list[pd.DataFrame] = []
    for rec in _records(cd.unmapped):
        out.append(
            _issue(
                "unmapped_status",
                rec.source,
                None,
                None,
                f"status '{rec.status}' in project {rec.project} maps to no column "
                f"({rec.items} items, {rec.events} moves ignored)",
            )
        )
    items = cd.items
    is_roadmap_arr = is_type(items, roadmap_types)
    subtask = items["is_subtask"].to_numpy(dtype=bool)
    pos = items["position"].to_numpy()
    open_ = ~((pos >= 0) & (pos >= items["done_index"].to_numpy()))
    est = estimates_at_as_of(cd, changes).to_numpy()

    # unestimated items in active or future sprints at as_of
    started = sprints_at(sprints, cd.as_of)
    active = set(started.loc[started["state_at"] == "active", "sprint_id"].astype(str))
    not_started = sprints[sprints["start"].isna() | (sprints["start"] > cd.as_of)]
    open_sprints = active | set(not_started["sprint_id"].astype(str))
    if open_sprints:
        mem = Membership.build(
            items,
            changes,
            "sprint",
            current_values(items, item_sprints, "sprint_id"),
            ~subtask,
            cd.as_of_ms,
            universe=open_sprints,
        )
        pairs = mem.pairs
        now = np.full(len(pairs), cd.as_of_ms, dtype=np.int64)
        inside = pairs[mem.member_at(pairs["pair"].to_numpy(dtype=np.int64), now)]
        names = dict(
            zip(sprints["sprint_id"].astype(str), sprints["name"].astype(str), strict=True)
        )
        r = inside["row"].to_numpy(dtype=np.int64)
        keep = np.isnan(est[r]) & open_[r]
        sid = inside["member"].astype(str).to_numpy()[keep]
        parts.append(
            _issues(
                "unestimated_in_sprint",
                items,
                r[keep],
                [f"no estimate, in sprint {names.get(x, x)}" for x in sid],
            )
        )

    # open items without an epic / roadmap parent at as_of
    parent = FieldHistory.build(
        items,
        changes,
        "parent",
        current=items["parent_key"].astype(object).to_numpy(),
        as_of_ms=cd.as_of_ms,
    )
    rows = np.flatnonzero(open_ & ~subtask & ~is_roadmap_arr)
    values = parent.value_at(rows, np.full(len(rows), cd.as_of_ms, dtype=np.int64))
    missing = pd.Series(values, dtype=object).fillna("").astype(str).str.strip() == ""
    bad = rows[missing.to_numpy(dtype=bool)]
    parts.append(
        _issues("no_epic", items, bad, ["open item without epic / roadmap parent"] * len(bad))
    )

    if scope is not None:
        rm = scope.roadmap
        for rec in _records(rm[rm["target_day"].isna() & rm["done_at"].isna()]):
            out.append(
                _issue(
                    "roadmap_no_target",
                    rec.source,
                    rec.key,
                    rec.roadmap_id,
                    f"{rec.kind} '{rec.title}' has no target date",
                )
            )

    if all_items is not None and deleted_since is not None:
        validate_items(all_items)
        since = as_utc(deleted_since, "deleted_since")
        gone = all_items[
            all_items["deleted_at"].notna()
            & (all_items["deleted_at"] > since)
            & (all_items["deleted_at"] <= cd.as_of)
        ]
        for rec in _records(gone):
            out.append(
                _issue(
                    "deleted_at_source",
                    rec.source,
                    rec.key,
                    rec.item_id,
                    # Jira answers alike for a deleted issue and one hidden from our user.
                    f"gone from the source on {rec.deleted_at:%Y-%m-%d} (deleted, or hidden)",
                )
            )
    parts.append(pd.DataFrame(out, columns=COLUMNS))
    return pd.concat([p for p in parts if len(p)] or [parts[-1]], ignore_index=True)


def quality_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Number of findings per check."""
    checks = [
        "unmapped_status",
        "unestimated_in_sprint",
        "no_epic",
        "roadmap_no_target",
        "deleted_at_source",
    ]
    counts = findings["check"].value_counts()
    return pd.DataFrame({"check": checks, "count": [int(counts.get(c, 0)) for c in checks]})
