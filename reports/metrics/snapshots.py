"""Week-over-week change of the roadmap: date slips, scope deltas, status changes, risks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .frames import validate_snapshot
from .timeutil import local_days


def _codes(value: object) -> set[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    return {c for c in str(value).split(",") if c}


def _fmt(day: Any) -> str:
    return "none" if pd.isna(day) else pd.Timestamp(day).strftime("%Y-%m-%d")


def diff_snapshots(previous: pd.DataFrame, current: pd.DataFrame, tz: str) -> pd.DataFrame:
    """One row per roadmap item in either snapshot: what changed since the previous one.

    ``change``: ``changed`` (status, reasons, target, scope, or a p85 move with progress or a
    scope change behind it), ``stalled`` (nothing finished or added and p85 later: one STALLED
    line, not a slip), ``new``, ``dropped`` or ``unchanged``. p50 moves alone are not news.
    """
    validate_snapshot(previous)
    validate_snapshot(current)
    keys = ["source", "roadmap_id"]
    cols = [
        "key", "title", "team", "target", "p50", "p85", "scope", "remaining", "status", "reasons"
    ]  # fmt: skip
    before = previous[keys + cols].copy()
    after = current[keys + cols].copy()
    for frame in (before, after):
        for c in ("target", "p50", "p85"):
            frame[c] = local_days(frame[c], tz)
    merged = before.merge(
        after, on=keys, how="outer", suffixes=("_before", "_after"), indicator=True
    )
    rows = []
    for rec in merged.to_dict("records"):
        side = rec["_merge"]
        key = rec["key_after"] if side != "left_only" else rec["key_before"]
        title = rec["title_after"] if side != "left_only" else rec["title_before"]
        team = rec["team_after"] if side != "left_only" else rec["team_before"]
        old_codes = _codes(rec["reasons_before"]) if side != "right_only" else set()
        new_codes = _codes(rec["reasons_after"]) if side != "left_only" else set()
        row = {
            "source": rec["source"],
            "roadmap_id": rec["roadmap_id"],
            "key": key,
            "title": title,
            "team": team,
            "status_before": rec["status_before"] if side != "right_only" else None,
            "status_after": rec["status_after"] if side != "left_only" else None,
            "target_before": rec["target_before"],
            "target_after": rec["target_after"],
            "target_shift_days": _days(rec["target_after"], rec["target_before"]),
            "p50_slip_days": _days(rec["p50_after"], rec["p50_before"]),
            "p85_before": rec["p85_before"],
            "p85_after": rec["p85_after"],
            "p85_slip_days": _days(rec["p85_after"], rec["p85_before"]),
            "scope_before": rec["scope_before"],
            "scope_after": rec["scope_after"],
            "scope_delta": (
                float(rec["scope_after"]) - float(rec["scope_before"]) if side == "both" else np.nan
            ),
            "new_risks": ",".join(sorted(new_codes - old_codes)),
            "cleared_risks": ",".join(sorted(old_codes - new_codes)),
        }
        row["status_changed"] = side == "both" and row["status_before"] != row["status_after"]
        if side == "left_only":
            row["change"] = "dropped"
        elif side == "right_only":
            row["change"] = "new"
        else:
            # nothing finished and nothing added: a later p85 is the calendar, not news
            idle = rec["remaining_before"] == rec["remaining_after"] and not _nonzero(
                row["scope_delta"]
            )
            rolled = idle and _nonzero(row["p85_slip_days"]) and row["p85_slip_days"] > 0
            material = (
                row["status_changed"]
                or row["new_risks"]
                or row["cleared_risks"]
                or _nonzero(row["target_shift_days"])
                or _nonzero(row["scope_delta"])
                or (_nonzero(row["p85_slip_days"]) and not rolled)
            )
            row["change"] = "changed" if material else "stalled" if rolled else "unchanged"
            row["no_progress"] = bool(rolled)
        row["summary"] = _summary(row)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {"changed": 0, "new": 1, "dropped": 2, "stalled": 3, "unchanged": 4}
    out["_o"] = out["change"].map(order)
    out = out.sort_values(["_o", "key"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def _days(a: Any, b: Any) -> float:
    if pd.isna(a) or pd.isna(b):
        return float("nan")
    return float((pd.Timestamp(a) - pd.Timestamp(b)).days)


def _nonzero(x: float) -> bool:
    return not np.isnan(x) and x != 0


def _summary(row: dict) -> str:
    if row["change"] == "new":
        return f"new on the roadmap ({row['status_after']})"
    if row["change"] == "dropped":
        return "no longer on the roadmap"
    parts = []
    if row.get("no_progress"):
        parts.append(
            f"STALLED: no item finished or added since last week "
            f"(p85 {_fmt(row['p85_before'])} -> {_fmt(row['p85_after'])})"
        )
    elif _nonzero(row["p85_slip_days"]):
        verb = "slipped" if row["p85_slip_days"] > 0 else "pulled in"
        parts.append(
            f"p85 {verb} {abs(int(row['p85_slip_days']))} days "
            f"({_fmt(row['p85_before'])} -> {_fmt(row['p85_after'])})"
        )
    if _nonzero(row["target_shift_days"]):
        parts.append(
            f"target moved {int(row['target_shift_days']):+d} days "
            f"({_fmt(row['target_before'])} -> {_fmt(row['target_after'])})"
        )
    if _nonzero(row["scope_delta"]):
        parts.append(
            f"scope {int(row['scope_delta']):+d} items "
            f"({int(row['scope_before'])} -> {int(row['scope_after'])})"
        )
    if row["status_changed"]:
        parts.append(f"status {row['status_before']} -> {row['status_after']}")
    if row["new_risks"]:
        parts.append(f"new risks: {row['new_risks']}")
    if row["cleared_risks"]:
        parts.append(f"cleared: {row['cleared_risks']}")
    return "; ".join(parts) if parts else "no change"
