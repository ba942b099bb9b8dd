"""Roadmap baselines rebuilt from history: what SCOPE_GROWTH measures against.

METRICS §5 defines the baseline as the item's scope and target when work started or when its
target was last set, whichever is later. A store synced for the first time today has seen nothing
before today, yet its history says when each epic's target was set or moved and when work on it
began. The baseline instant here is the later of the two: the last instant up to as_of the target
was set or moved (a re-plan resets what growth is measured against), and the instant work started
(its first child reached the committed column; the epic's own status does not count, so an epic
marked in progress before it had children is not measured against an empty scope). Scope before
work starts is planning, not growth. Baseline scope = children at that instant, replayed from the
``parent`` / ``fix_version`` histories exactly as
:func:`pulse.reports.metrics.roadmap.roadmap_scope` replays them for as_of. Items not started by
as_of, or without a target, get no baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import is_type
from .frames import BASELINES, empty_frame
from .history import Membership, current_values, due_history
from .roadmap import ROADMAP_TYPES, RoadmapScope
from .timeutil import to_ms

_NAT = np.iinfo(np.int64).min


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == ""


def _target_last_set(cd: ColumnDates, changes: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Per roadmap item row: the last instant (ms) up to as_of its due date was set or moved —
    its creation when it was born with one and never changed; int64 min when it never had one."""
    items = cd.items
    hist = due_history(items, changes, cd.as_of_ms)
    created = to_ms(items["created"])
    out = np.full(len(rows), _NAT, dtype=np.int64)
    last_set: dict[int, int] = {}
    for r, at, value in zip(hist.row, hist.at_ms, hist.to_value, strict=True):
        if not _blank(value):  # sorted by time within each row: the last one stays
            last_set[int(r)] = int(at)
    for k, r in enumerate(rows):
        r = int(r)
        initial = hist.initial[r] if hist.has_changes[r] else hist.current[r]
        if r in last_set:
            out[k] = last_set[r]
        elif not _blank(initial) and not (isinstance(initial, pd.Timestamp) and pd.isna(initial)):
            out[k] = created[r]
    return out


def history_baselines(
    scope: RoadmapScope,
    cd: ColumnDates,
    changes: pd.DataFrame,
    item_versions: pd.DataFrame,
    roadmap_types: Collection[str] = ROADMAP_TYPES,
) -> pd.DataFrame:
    """A :data:`pulse.reports.metrics.frames.BASELINES` frame rebuilt from history (see module
    doc)."""
    rm = scope.roadmap
    if len(rm) == 0:
        return empty_frame(BASELINES)
    items = cd.items
    rows = rm["row"].to_numpy(dtype=np.int64)
    is_epic = rows >= 0
    target_ms = np.full(len(rm), _NAT, dtype=np.int64)
    if is_epic.any():
        target_ms[is_epic] = _target_last_set(cd, changes, rows[is_epic])
    # versions: their release date has no history; it counts from the first child added
    created_ms = to_ms(rm["created"])
    target_ms[~is_epic] = created_ms[~is_epic]
    has_target = pd.notna(rm["target_day"]).to_numpy()
    # work starts when the first child reaches committed: an epic marked in progress before it
    # has children would otherwise be measured against an empty scope
    started = to_ms(rm["started_at"])
    base_ms = np.maximum(target_ms, started)
    ok = has_target & (target_ms != _NAT) & (started != _NAT) & (base_ms <= cd.as_of_ms)

    is_roadmap = is_type(items, roadmap_types)
    eligible = ~items["is_subtask"].to_numpy(dtype=bool) & ~is_roadmap
    scope_at = np.zeros(len(rm), dtype=np.int64)
    want = {str(r): k for k, r in enumerate(rm["roadmap_id"]) if ok[k]}
    if want:
        keys = {str(k): str(r) for k, r in zip(rm["key"], rm["roadmap_id"], strict=True)}
        epic_keys = {k for k, r in keys.items() if r in want and not r.startswith("version:")}
        if epic_keys:
            parent_now = items["parent_key"].astype(object).where(items["parent_key"].notna(), "")
            mem = Membership.build(
                items, changes, "parent", parent_now.to_numpy(), eligible, cd.as_of_ms, epic_keys
            )
            _count(mem, lambda m: want.get(keys.get(m, ""), -1), base_ms, scope_at)
        version_ids = {r[len("version:") :] for r in want if r.startswith("version:")}
        if version_ids:
            current = current_values(items, item_versions, "version_id")
            mem = Membership.build(
                items, changes, "fix_version", current, eligible, cd.as_of_ms, version_ids
            )
            _count(mem, lambda m: want.get(f"version:{m}", -1), base_ms, scope_at)
    sel = np.flatnonzero(ok)
    frame = pd.DataFrame(
        {
            "source": rm["source"].astype(str).to_numpy()[sel],
            "roadmap_id": rm["roadmap_id"].astype(str).to_numpy()[sel],
            "baseline_at": pd.to_datetime(base_ms[sel], unit="ms", utc=True),
            "baseline_scope": scope_at[sel].astype("int64"),
            "baseline_target": pd.to_datetime(
                pd.Series(rm["target_day"].to_numpy()[sel])
            ).dt.tz_localize("UTC"),
        }
    )
    return frame[BASELINES.names].reset_index(drop=True)


def _count(
    mem: Membership, owner_of: Callable[[str], int], base_ms: np.ndarray, out: np.ndarray
) -> None:
    pairs = mem.pairs
    if len(pairs) == 0:
        return
    owner = np.array([owner_of(str(m)) for m in pairs["member"]], dtype=np.int64)
    ok = owner >= 0
    pair_ids = pairs["pair"].to_numpy(dtype=np.int64)[ok]
    times = base_ms[owner[ok]]
    inside = mem.member_at(pair_ids, times)
    np.add.at(out, owner[ok][inside], 1)
