"""Roadmap health: status, reason codes with plain-language evidence, severity, snapshot rows.

Status (METRICS §5): ``done``; ``no target``; ``off track`` when the target has passed or is
before p50 (or there is no forecast); ``at risk`` when p50 <= target < p85; ``on track`` when
p85 <= target. Reasons are listed for every roadmap item that is not done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .frames import SNAPSHOT, validate_baselines, validate_links
from .reasons import REASONS
from .roadmap import RoadmapScope, day_to_instant, target_days
from .timeutil import local_day

Owner = tuple[str, str]  # a roadmap item: (source, roadmap_id)
STATUS_RANK = {
    "off track": 4,
    "at risk": 3,
    "no target": 2,
    "no scope": 2,
    "on track": 1,
    "done": 0,
}


def _records(frame: pd.DataFrame) -> list[Any]:
    """Rows as named tuples (typed loosely for mypy)."""
    return list(frame.itertuples(index=False))


@dataclass(frozen=True)
class HealthConfig:
    """Thresholds and weights of the health rules."""

    scope_growth: float = 0.20
    stalled_days: int = 14
    weights: dict[str, int] = field(
        default_factory=lambda: {
            "OVERDUE": 50,
            "FORECAST_LATE": 40,
            "LATE_DEPENDENCY": 30,
            "BLOCKED": 25,
            "SCOPE_GROWTH": 20,
            "STALLED": 15,
            "AGING_WIP": 10,
            "UNESTIMATED": 5,
            "NO_TARGET": 5,
            "STALE_SCOPE": 5,
        }
    )
    max_listed: int = 3


def n_days(count: int) -> str:
    """A count of days as evidence reads it: "1 day", "6 days"."""
    return f"{count} day" if count == 1 else f"{count} days"


def _d(day: Any) -> str:
    return pd.Timestamp(day).strftime("%Y-%m-%d")


def _listing(parts: list[str], limit: int) -> str:
    if len(parts) <= limit:
        return "; ".join(parts)
    return "; ".join(parts[:limit]) + f"; and {len(parts) - limit} more"


def status_of(
    done: bool, target: Any, p50: Any, p85: Any, today: pd.Timestamp, scope: int = 1
) -> str:
    """One roadmap item's status from its done flag, target, forecast days and scope (an item
    without children has no forecast: ``no scope``, never on track)."""
    if done:
        return "done"
    if scope == 0:
        return "no scope"
    if pd.isna(target):
        return "no target"
    target = pd.Timestamp(target)
    if target < today or pd.isna(p50) or target < pd.Timestamp(p50):
        return "off track"
    if pd.isna(p85) or target < pd.Timestamp(p85):
        return "at risk"
    return "on track"


def _stage(pos: int, committed: int, done: int) -> str:
    if pos < 0:
        return "in an unmapped status"
    if pos >= done:
        return "done"
    if pos >= committed:
        return "in progress"
    return "not started"


def roadmap_health(
    scope: RoadmapScope,
    forecasts: pd.DataFrame,
    cd: ColumnDates,
    baselines: pd.DataFrame | None = None,
    blocked: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    ageing: pd.DataFrame | None = None,
    config: HealthConfig | None = None,
    weeks: int = 12,
) -> pd.DataFrame:
    """This week's snapshot rows (see :data:`frames.SNAPSHOT`), worst first."""
    config = config or HealthConfig()
    today = local_day(cd.as_of, cd.tz)
    rm = scope.roadmap
    # Two sites may both have an issue 10001: roadmap items are (source, roadmap_id).
    fc = forecasts.set_index(["source", "roadmap_id"]) if len(forecasts) else pd.DataFrame()
    base = _baselines(baselines, cd.tz)
    frame = cd.items
    items = {
        c: frame[c].astype(object).to_numpy() if c in ("source", "key") else frame[c].to_numpy()
        for c in ("source", "key", "position", "committed_index", "done_index")
    }
    by_key = {(s, k): i for i, (s, k) in enumerate(zip(items["source"], items["key"], strict=True))}
    kids = scope.children
    kid = _Kids.of(kids)
    parent_of = dict(
        zip(
            kids["row"].astype(int),
            zip(kids["source"], kids["roadmap_id"], strict=True),
            strict=True,
        )
    )
    rm_by_row = {
        int(r): (s, rid)
        for r, s, rid in zip(rm["row"], rm["source"], rm["roadmap_id"], strict=True)
        if int(r) >= 0
    }
    p85_of: dict[Owner, Any] = (
        {(str(k[0]), str(k[1])): v for k, v in fc["p85"].items()}  # type: ignore[index]
        if "p85" in fc
        else {}
    )
    fc_of = {
        q: dict(zip(fc.index, fc[q], strict=True)) if q in fc else {} for q in ("p50", "p85", "p95")
    }
    key_of = {
        (s, r): str(k) for s, r, k in zip(rm["source"], rm["roadmap_id"], rm["key"], strict=True)
    }
    stale_of = _stale_lookup(forecasts)
    flagged = flag_lookup(blocked, cd)
    blockers = blocker_lookup(links, cd, by_key)
    aging = _aging_lookup(ageing)

    rows = []
    for rec in _records(rm):
        rid = rec.roadmap_id
        done = pd.notna(rec.done_at)
        target = rec.target_day if pd.notna(rec.target_day) else pd.NaT
        p50 = fc_of["p50"].get((rec.source, rid), pd.NaT)
        p85 = fc_of["p85"].get((rec.source, rid), pd.NaT)
        p95 = fc_of["p95"].get((rec.source, rid), pd.NaT)
        if done:
            p50 = p85 = p95 = pd.NaT
        stale = stale_of.get((rec.source, rid))
        # with stale children, the work that is moving decides the status (METRICS §5)
        s50, s85 = (stale[1], stale[2]) if stale else (p50, p85)
        status = status_of(done, target, s50, s85, today, int(rec.scope))
        reasons: list[tuple[str, str]] = []
        mine = kid.groups.get((rec.source, rid))
        if not done and int(rec.scope) == 0:  # nothing to forecast: only the target speaks
            reasons += [
                r
                for r in _target_reasons(rec, target, pd.NaT, today, weeks)
                if r[0] != "FORECAST_LATE"
            ]
            reasons += _estimate_reason(rec)
        elif not done:
            open_kids = mine[~kid.completed[mine]] if mine is not None else None
            late = _target_reasons(rec, target, s85, today, weeks)
            if stale and len(stale[0]) == int(rec.remaining):  # hygiene, not late work
                late = [r for r in late if r[0] != "FORECAST_LATE"]
            reasons += late
            if stale:
                reasons.append(("STALE_SCOPE", _stale_evidence(rec, stale, config)))
            reasons += _scope_reason(rec, base.get((rec.source, rid)), config)
            reasons += _stalled_reason(rec, kid, mine, today, cd, config)
            own_row = int(rec.row)
            subjects = ([own_row] if own_row >= 0 else []) + (
                kid.row[open_kids].tolist() if open_kids is not None else []
            )
            reasons += blocked_reasons(subjects, flagged, blockers, items, config)
            reasons += _dependency_reasons(
                subjects, blockers, target, items, parent_of, rm_by_row, p85_of, key_of, config
            )
            reasons += _aging_reason(kid, open_kids, aging, config)
            reasons += _estimate_reason(rec)
        reasons.sort(key=lambda r: REASONS.index(r[0]))
        codes = [c for c, _ in reasons]
        severity = STATUS_RANK[status] * 100 + sum(config.weights.get(c, 0) for c in codes)
        rows.append(
            {
                "snapshot_at": cd.as_of,
                "source": rec.source,
                "roadmap_id": rid,
                "kind": rec.kind,
                "key": rec.key,
                "title": rec.title,
                "team": rec.team,
                "target": target,
                "p50": p50,
                "p85": p85,
                "p95": p95,
                "done_at": rec.done_at,
                "scope": int(rec.scope),
                "remaining": int(rec.remaining),
                "pct_complete": float(rec.pct_complete),
                "status": status,
                "reasons": ",".join(codes),
                "evidence": "\n".join(e for _, e in reasons),
                "severity": int(severity),
            }
        )
    frame = pd.DataFrame(rows, columns=SNAPSHOT.names)
    for col in ("target", "p50", "p85", "p95"):
        frame[col] = day_to_instant(pd.to_datetime(frame[col]), cd.tz)
    frame["done_at"] = pd.to_datetime(frame["done_at"], utc=True)
    frame["snapshot_at"] = pd.to_datetime(frame["snapshot_at"], utc=True)
    for col in ("scope", "remaining", "severity"):
        frame[col] = frame[col].astype("int64")
    frame["pct_complete"] = frame["pct_complete"].astype("float64")
    frame = frame.sort_values(["severity", "key"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


def _stale_lookup(forecasts: pd.DataFrame) -> dict[Owner, tuple[list[str], Any, Any]]:
    """(source, roadmap_id) -> (stale child keys, p50 and p85 if they were closed)."""
    if "stale_keys" not in forecasts or len(forecasts) == 0:
        return {}
    have = forecasts[forecasts["stale"] > 0]
    return {
        (str(s), str(r)): (list(k), a, b)
        for s, r, k, a, b in zip(
            have["source"],
            have["roadmap_id"],
            have["stale_keys"],
            have["p50_if_closed"],
            have["p85_if_closed"],
            strict=True,
        )
    }


HELD_OPEN = "held open only by"


def _stale_evidence(rec: Any, stale: tuple[list[str], Any, Any], config: HealthConfig) -> str:
    """Which children are stale, whether they alone hold the item open, and the date without."""
    keys, _p50, p85 = stale
    only = len(keys) == int(rec.remaining)
    what = HELD_OPEN if only else "waiting on"
    when = f"p85 {_d(p85)}" if pd.notna(p85) else "no forecast before the horizon"
    listed = _listing(list(keys), config.max_listed)
    return f"{what} {len(keys)} untouched children ({listed}); if they were closed: {when}"


def held_open(snapshot: pd.DataFrame) -> pd.DataFrame:
    """Rows of items held open only by untouched children: counted apart from late work."""
    return snapshot[snapshot["evidence"].astype(str).str.contains(HELD_OPEN, regex=False)]


def _baselines(baselines: pd.DataFrame | None, tz: str) -> dict[tuple[str, str], tuple]:
    if baselines is None or len(baselines) == 0:
        return {}
    validate_baselines(baselines)
    days = target_days(baselines["baseline_target"], tz)
    return {
        (str(s), str(r)): (int(sc), t, b)
        for s, r, sc, t, b in zip(
            baselines["source"],
            baselines["roadmap_id"],
            baselines["baseline_scope"],
            days,
            baselines["baseline_at"],
            strict=True,
        )
    }


def _target_reasons(
    rec: Any, target: Any, p85: Any, today: pd.Timestamp, weeks: int
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if pd.isna(target):
        what = "version has no release date" if rec.kind == "version" else "no due date set"
        out.append(("NO_TARGET", f"no target: {what}"))
        return out
    target = pd.Timestamp(target)
    if target < today:
        late = (today - target).days
        out.append(
            (
                "OVERDUE",
                f"target {_d(target)} passed {n_days(late)} ago with {int(rec.remaining)} of "
                f"{int(rec.scope)} items open",
            )
        )
    if pd.isna(p85):
        out.append(
            (
                "FORECAST_LATE",
                f"no forecast before the horizon: too little throughput in the last {weeks} "
                f"weeks to finish {int(rec.remaining)} items (target {_d(target)})",
            )
        )
    elif pd.Timestamp(p85) > target:
        gap = (pd.Timestamp(p85) - target).days
        out.append(("FORECAST_LATE", f"p85 {_d(p85)} is {n_days(gap)} after target {_d(target)}"))
    return out


def _scope_reason(rec: Any, base: tuple | None, config: HealthConfig) -> list[tuple[str, str]]:
    if base is None:
        return []
    base_scope, _target, base_at = base
    scope = int(rec.scope)
    if base_scope == 0:
        if scope > 0:
            return [
                (
                    "SCOPE_GROWTH",
                    f"scope 0 -> {scope} items since baseline {_d(base_at)}",
                )
            ]
        return []
    growth = (scope - base_scope) / base_scope
    if growth > config.scope_growth + 1e-12:
        return [
            (
                "SCOPE_GROWTH",
                f"scope +{round(growth * 100)}% since baseline ({base_scope} -> {scope} items, "
                f"baseline {_d(base_at)})",
            )
        ]
    return []


_NAT_NS = np.iinfo(np.int64).min


def _ns(values: pd.Series) -> np.ndarray:
    """UTC instants as int64 nanoseconds (NaT: the int64 minimum), without object round trips."""
    stamps = pd.to_datetime(values, utc=True).dt.tz_localize(None).dt.as_unit("ns")
    return np.asarray(stamps.to_numpy(), dtype="datetime64[ns]").view(np.int64)


@dataclass(frozen=True)
class _Kids:
    """The children frame as arrays, and each roadmap item's child positions (frame order)."""

    groups: dict[Any, np.ndarray]
    completed: np.ndarray
    row: np.ndarray
    key: np.ndarray
    source: np.ndarray
    item_id: np.ndarray
    last_move_ns: np.ndarray
    added_ns: np.ndarray

    @classmethod
    def of(cls, kids: pd.DataFrame) -> _Kids:
        groups = (
            dict(kids.groupby(["source", "roadmap_id"], sort=False).indices) if len(kids) else {}
        )
        return cls(
            groups={r: np.asarray(ix, dtype=np.int64) for r, ix in groups.items()},
            completed=kids["completed"].to_numpy(dtype=bool),
            row=kids["row"].to_numpy().astype(np.int64),
            key=kids["key"].astype(object).to_numpy(),
            source=kids["source"].astype(object).to_numpy(),
            item_id=kids["item_id"].astype(object).to_numpy(),
            last_move_ns=_ns(kids["last_move_at"]),
            added_ns=_ns(kids["added_at"]),
        )


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC")


def _stalled_reason(
    rec: Any,
    kid: _Kids,
    mine: np.ndarray | None,
    today: pd.Timestamp,
    cd: ColumnDates,
    config: HealthConfig,
) -> list[tuple[str, str]]:
    if mine is None or len(mine) == 0:
        return []
    moves = kid.last_move_ns[mine]
    moved = moves != _NAT_NS
    if not moved.any():
        added = kid.added_ns[mine]
        added = added[added != _NAT_NS]
        ref = rec.created
        if pd.isna(ref):
            if not len(added):
                return []
            ref = _stamp(added.min())
        idle = (today - local_day(ref, cd.tz)).days
        if idle >= config.stalled_days:
            return [("STALLED", f"no child has moved since it was created {n_days(idle)} ago")]
        return []
    newest = moves[moved].max()
    last = _stamp(newest)
    idle = (today - local_day(last, cd.tz)).days
    if idle >= config.stalled_days:
        who = kid.key[mine[int(np.flatnonzero(moves == newest)[0])]]
        return [
            (
                "STALLED",
                f"no child moved in {n_days(idle)} (last: {who} on {_d(local_day(last, cd.tz))})",
            )
        ]
    return []


def flag_lookup(blocked: pd.DataFrame | None, cd: ColumnDates) -> dict[int, int]:
    """Row -> days flagged so far, for items flagged at as_of."""
    if blocked is None or len(blocked) == 0:
        return {}
    now = blocked[blocked["flagged_now"].to_numpy(dtype=bool)]
    rows = cd.rows_of(now)
    today = local_day(cd.as_of, cd.tz)
    out = {}
    for r, since in zip(rows, now["flagged_since"], strict=True):
        if r >= 0:
            out[int(r)] = (today - local_day(since, cd.tz)).days if pd.notna(since) else 0
    return out


def blocker_lookup(
    links: pd.DataFrame | None, cd: ColumnDates, by_key: dict[tuple[str, str], int]
) -> dict[int, list[tuple[str, int]]]:
    """Row -> [(blocking key, blocking row or -1)] for inward 'blocks' links."""
    if links is None or len(links) == 0:
        return {}
    validate_links(links)
    sel = links[
        links["link_type"].astype(str).str.casefold().str.contains("block")
        & (links["direction"].astype(str).str.casefold() == "inward")
    ]
    rows = cd.rows_of(sel)
    out: dict[int, list[tuple[str, int]]] = {}
    for r, s, k in zip(rows, sel["source"].astype(str), sel["other_key"].astype(str), strict=True):
        if r >= 0:
            out.setdefault(int(r), []).append((k, by_key.get((s, k), -1)))
    return out


def _is_open(row: int, items: dict[str, np.ndarray]) -> bool:
    if row < 0:
        return True
    pos = int(items["position"][row])
    return not (pos >= 0 and pos >= int(items["done_index"][row]))


def blocked_reasons(
    subjects: list[int],
    flagged: dict[int, int],
    blockers: dict[int, list[tuple[str, int]]],
    items: dict[str, np.ndarray],
    config: HealthConfig,
) -> list[tuple[str, str]]:
    parts = []
    for r in subjects:
        key = str(items["key"][r])
        open_blockers = [(k, b) for k, b in blockers.get(r, []) if _is_open(b, items)]
        days = flagged.get(r)
        if open_blockers:
            for k, b in open_blockers:
                state = (
                    "status unknown to Pulse"
                    if b < 0
                    else _stage(
                        int(items["position"][b]),
                        int(items["committed_index"][b]),
                        int(items["done_index"][b]),
                    )
                )
                lead = f"{key} blocked {n_days(days)}" if days is not None else f"{key} blocked"
                parts.append(f"{lead} by {k}, itself {state}")
        elif days is not None:
            parts.append(f"{key} flagged as blocked for {n_days(days)}")
    if not parts:
        return []
    return [("BLOCKED", _listing(parts, config.max_listed))]


def _dependency_reasons(
    subjects: list[int],
    blockers: dict[int, list[tuple[str, int]]],
    target: Any,
    items: dict[str, np.ndarray],
    parent_of: dict[int, Owner],
    rm_by_row: dict[int, Owner],
    p85_of: dict[Owner, Any],
    key_of: dict[Owner, str],
    config: HealthConfig,
) -> list[tuple[str, str]]:
    if pd.isna(target):
        return []
    target = pd.Timestamp(target)
    parts = []
    seen = set()
    for r in subjects:
        for k, b in blockers.get(r, []):
            if b < 0 or not _is_open(b, items) or k in seen:
                continue
            owner = rm_by_row.get(b) or parent_of.get(b)
            if owner is None or owner not in p85_of:
                continue
            p85 = p85_of[owner]
            via = "" if rm_by_row.get(b) else f" (in {key_of.get(owner, owner[1])})"
            if pd.isna(p85):
                parts.append(f"blocked by {k}{via}, which has no forecast before the horizon")
                seen.add(k)
            elif pd.Timestamp(p85) > target:
                gap = (pd.Timestamp(p85) - target).days
                parts.append(
                    f"blocked by {k}{via} forecast p85 {_d(p85)}, {n_days(gap)} after target "
                    f"{_d(target)}"
                )
                seen.add(k)
    if not parts:
        return []
    return [("LATE_DEPENDENCY", _listing(parts, config.max_listed))]


def _aging_lookup(ageing: pd.DataFrame | None) -> dict[tuple[str, str], tuple[int, float]]:
    if ageing is None or len(ageing) == 0:
        return {}
    over = ageing[ageing["over_p85"].to_numpy(dtype=bool)]
    return {
        (str(s), str(i)): (int(a), float(p))
        for s, i, a, p in zip(
            over["source"], over["item_id"], over["age_days"], over["p85_days"], strict=True
        )
    }


def _aging_reason(
    kid: _Kids,
    open_kids: np.ndarray | None,
    aging: dict[tuple[str, str], tuple[int, float]],
    config: HealthConfig,
) -> list[tuple[str, str]]:
    if open_kids is None or not aging:
        return []
    parts = []
    for j in open_kids.tolist():
        s, i, k = kid.source[j], kid.item_id[j], kid.key[j]
        hit = aging.get((str(s), str(i)))
        if hit:
            parts.append(f"{k} in progress {n_days(hit[0])} (team p85 {hit[1]:g} days)")
    if not parts:
        return []
    return [("AGING_WIP", _listing(parts, config.max_listed))]


def _estimate_reason(rec: Any) -> list[tuple[str, str]]:
    if int(rec.scope) == 0:
        return [("UNESTIMATED", "no child items yet: scope unknown")]
    missing = int(rec.unestimated_remaining)
    if missing and int(rec.estimated_children) > 0:
        return [("UNESTIMATED", f"{missing} of {int(rec.remaining)} open items have no estimate")]
    return []


def snapshot_rows(
    scope: RoadmapScope,
    forecasts: pd.DataFrame,
    cd: ColumnDates,
    baselines: pd.DataFrame | None = None,
    blocked: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    ageing: pd.DataFrame | None = None,
    config: HealthConfig | None = None,
) -> pd.DataFrame:
    """This week's roadmap snapshot (one row per roadmap item) ready to be stored."""
    return roadmap_health(scope, forecasts, cd, baselines, blocked, links, ageing, config)
