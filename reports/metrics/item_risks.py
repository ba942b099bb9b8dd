"""Work-item risk: the reasons one work item carries at as_of, beside the roadmap health rules.

A work item (not a roadmap item, sub-task or done item) is listed with every reason that applies
to it alone: OVERDUE (its own due date passed), BLOCKED (flagged, or blocked by an open item),
STALLED (in progress, no status change for ``stalled_days``), AGING_WIP (in progress longer than
its team's p85 cycle time) and UNESTIMATED (no estimate while in an active or future sprint).
Level: high when overdue or blocked, medium when stalled or ageing, else low; severity = 400 /
300 / 100 for the level plus the reasons' weights
(:class:`pulse.reports.metrics.health.HealthConfig`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import is_type
from .health import REASONS, HealthConfig, blocked_reasons, blocker_lookup, flag_lookup, n_days
from .history import due_history, scoped, sprint_membership
from .roadmap import ROADMAP_TYPES, RoadmapScope, target_days
from .sprints import sprints_at
from .timeutil import local_days

LEVEL_SCORE = {"high": 400, "medium": 300, "low": 100}
ITEM_RISK_COLUMNS = [
    "source",
    "item_id",
    "key",
    "title",
    "team",
    "project",
    "status",
    "level",
    "severity",
    "reasons",
    "evidence",
    "due",
    "parent",
    "url",
]


def level_of(kind: str, status: str, codes: list[str]) -> str:
    """Roadmap items: high off track, medium at risk; work items: high overdue or blocked,
    medium stalled or ageing; else low."""
    if kind != "item":
        return {"off track": "high", "at risk": "medium"}.get(status, "low")
    if "OVERDUE" in codes or "BLOCKED" in codes:
        return "high"
    if "STALLED" in codes or "AGING_WIP" in codes:
        return "medium"
    return "low"


def item_risks(
    cd: ColumnDates,
    changes: pd.DataFrame,
    sprints: pd.DataFrame,
    item_sprints: pd.DataFrame,
    links: pd.DataFrame,
    scope: RoadmapScope,
    estimates: pd.Series,
    blocked: pd.DataFrame,
    ageing: pd.DataFrame,
    config: HealthConfig | None = None,
    roadmap_types: tuple[str, ...] = ROADMAP_TYPES,
) -> pd.DataFrame:
    """One row (:data:`ITEM_RISK_COLUMNS`) per open work item carrying a reason at as_of.

    ``reasons`` are comma-separated codes in the order of :data:`REASONS`, ``evidence`` one
    sentence per code, newline-separated; ``parent`` lists the open roadmap items it belongs to.
    """
    health = config or HealthConfig()
    items = cd.items
    n = len(items)
    if n == 0:
        return pd.DataFrame(columns=ITEM_RISK_COLUMNS)
    is_roadmap = is_type(items, roadmap_types)
    pos = items["position"].to_numpy()
    done = (pos >= 0) & (pos >= items["done_index"].to_numpy())
    eligible = ~is_roadmap & ~items["is_subtask"].to_numpy(dtype=bool) & ~done
    rows = np.flatnonzero(eligible)
    if len(rows) == 0:
        return pd.DataFrame(columns=ITEM_RISK_COLUMNS)
    reasons: dict[int, list[tuple[str, str]]] = {}

    def add(r: int, code: str, text: str) -> None:
        reasons.setdefault(r, []).append((code, text))

    today_d = np.datetime64(pd.Timestamp(cd.today).date(), "D")
    due_d, due_text = _due_days(cd, changes, rows)
    late = np.flatnonzero(~np.isnat(due_d) & (due_d < today_d))
    for r, gap in zip(
        late.tolist(), (today_d - due_d[late]).astype(np.int64).tolist(), strict=True
    ):
        add(r, "OVERDUE", f"due {due_text[r]} passed {n_days(gap)} ago, not done")
    for r, text in _blocked(cd, links, blocked, rows, health).items():
        add(r, "BLOCKED", text)
    in_progress = (pos >= items["committed_index"].to_numpy()) & ~done & (pos >= 0)
    for r, code, text in _in_progress(cd, ageing, np.flatnonzero(eligible & in_progress), health):
        add(r, code, text)
    for r, text in _unestimated(cd, changes, sprints, item_sprints, estimates, rows).items():
        add(r, "UNESTIMATED", text)
    return _rows(cd, reasons, due_d, due_text, _parents(scope), health)


def _due_days(cd: ColumnDates, changes: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per item row: its own due day at as_of (NaT when none or not eligible) and as text."""
    items = cd.items
    due_hist = due_history(items, changes, cd.as_of_ms)
    due_now = due_hist.value_at(rows, np.full(len(rows), cd.as_of_ms, dtype=np.int64))
    days = target_days(
        pd.to_datetime(pd.Series(due_now, dtype=object), utc=True, errors="coerce"), cd.tz
    )
    due_d = np.full(len(items), np.datetime64("NaT"), dtype="datetime64[D]")
    due_d[rows] = days.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return due_d, np.datetime_as_string(due_d, unit="D")


def _blocked(
    cd: ColumnDates,
    links: pd.DataFrame,
    blocked: pd.DataFrame,
    rows: np.ndarray,
    health: HealthConfig,
) -> dict[int, str]:
    """BLOCKED evidence per row: flagged now, or blocked by an open item (roadmap wording)."""
    items = cd.items
    by_key = {(s, k): i for i, (s, k) in enumerate(zip(items["source"], items["key"], strict=True))}
    arrays = {
        c: items[c].astype(object).to_numpy() if c in ("source", "key") else items[c].to_numpy()
        for c in ("source", "key", "position", "committed_index", "done_index")
    }
    flagged = flag_lookup(blocked, cd)
    blockers = blocker_lookup(links, cd, by_key)
    out: dict[int, str] = {}
    for r in sorted((set(flagged) | set(blockers)) & set(rows.tolist())):
        hit = blocked_reasons([int(r)], flagged, blockers, arrays, health)
        if hit:
            text = hit[0][1]
            key = str(arrays["key"][r])
            out[int(r)] = text[len(key) + 1 :] if text.startswith(key + " ") else text
    return out


def _in_progress(
    cd: ColumnDates, ageing: pd.DataFrame, work: np.ndarray, health: HealthConfig
) -> list[tuple[int, str, str]]:
    """STALLED and AGING_WIP evidence of the in-progress rows ``work``."""
    if len(work) == 0:
        return []
    items = cd.items
    today_d = np.datetime64(pd.Timestamp(cd.today).date(), "D")
    last = items["last_move_at"].iloc[work]
    ref = last.where(last.notna(), items["created"].iloc[work])
    ref_day = local_days(pd.Series(pd.to_datetime(ref, utc=True).to_numpy()), cd.tz)
    ref_d = ref_day.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    ref_text = np.datetime_as_string(ref_d, unit="D")
    idle = (today_d - ref_d).astype(np.int64)
    column = items["column"].iloc[work].to_numpy()
    over = ageing[ageing["over_p85"].to_numpy(dtype=bool)]
    aging = {
        (str(s), str(i)): (int(g), float(p))
        for s, i, g, p in zip(
            over["source"], over["item_id"], over["age_days"], over["p85_days"], strict=True
        )
    }
    src = items["source"].to_numpy()
    iid = items["item_id"].to_numpy()
    out = []
    for k, r in enumerate(work.tolist()):
        if idle[k] >= health.stalled_days:
            text = f"no move in {n_days(int(idle[k]))} (in {column[k]} since {ref_text[k]})"
            out.append((r, "STALLED", text))
        aged = aging.get((str(src[r]), str(iid[r])))
        if aged:
            out.append(
                (r, "AGING_WIP", f"in progress {n_days(aged[0])} (team p85 {aged[1]:g} days)")
            )
    return out


def _unestimated(
    cd: ColumnDates,
    changes: pd.DataFrame,
    sprints: pd.DataFrame,
    item_sprints: pd.DataFrame,
    estimates: pd.Series,
    rows: np.ndarray,
) -> dict[int, str]:
    """UNESTIMATED evidence per row: no estimate at as_of while in an active or future sprint."""
    started = sprints_at(sprints, cd.as_of)
    running = started[started["state_at"] == "active"]
    future = sprints[sprints["start"].isna() | (sprints["start"] > cd.as_of)]
    active_keys = set(scoped(running["source"], running["sprint_id"]))
    open_sprints = active_keys | set(scoped(future["source"], future["sprint_id"]))
    if not open_sprints or len(rows) == 0:
        return {}
    items = cd.items
    eligible = np.zeros(len(items), dtype=bool)
    eligible[rows] = True
    mem = sprint_membership(items, changes, item_sprints, eligible, cd.as_of_ms, open_sprints)
    pairs = mem.pairs
    now = np.full(len(pairs), cd.as_of_ms, dtype=np.int64)
    inside = pairs[mem.member_at(pairs["pair"].to_numpy(dtype=np.int64), now)]
    values = estimates.to_numpy()
    keys = scoped(sprints["source"], sprints["sprint_id"])
    names = dict(zip(keys, sprints["name"].astype(str), strict=True))
    out: dict[int, str] = {}
    for r, sid in zip(inside["row"].astype(int), inside["member"].astype(str), strict=True):
        if np.isnan(values[r]) and r not in out:
            state = "active" if sid in active_keys else "future"
            out[int(r)] = f"no estimate, in {state} sprint {names[sid]}"
    return out


def _parents(scope: RoadmapScope) -> dict[int, list[str]]:
    """Per item row: the keys of the open roadmap items it belongs to."""
    rm = scope.roadmap
    open_ids = set(rm.loc[rm["done_at"].isna(), "roadmap_id"].astype(str))
    key_of = dict(zip(rm["roadmap_id"].astype(str), rm["key"].astype(str), strict=True))
    kids = scope.children
    out: dict[int, list[str]] = {}
    for rid, r in zip(kids["roadmap_id"].astype(str), kids["row"].astype(int), strict=True):
        if rid in open_ids:
            out.setdefault(int(r), []).append(key_of.get(rid, ""))
    return out


def _rows(
    cd: ColumnDates,
    reasons: dict[int, list[tuple[str, str]]],
    due_d: np.ndarray,
    due_text: np.ndarray,
    parent_of: dict[int, list[str]],
    health: HealthConfig,
) -> pd.DataFrame:
    items = cd.items
    cols = {
        c: items[c].to_numpy()
        for c in ("source", "item_id", "key", "title", "team", "project", "url", "status", "column")
    }
    out = []
    for r in sorted(reasons):
        found = sorted(reasons[r], key=lambda x: REASONS.index(x[0]))
        codes = [c for c, _ in found]
        level = level_of("item", "", codes)
        column = cols["column"][r]
        parents = parent_of.get(r, [])
        out.append(
            {
                "source": str(cols["source"][r]),
                "item_id": str(cols["item_id"][r]),
                "key": str(cols["key"][r]),
                "title": str(cols["title"][r]),
                "team": str(cols["team"][r]),
                "project": str(cols["project"][r]),
                "status": str(column) if pd.notna(column) else str(cols["status"][r]),
                "level": level,
                "severity": LEVEL_SCORE[level] + sum(health.weights.get(c, 0) for c in codes),
                "reasons": ",".join(codes),
                "evidence": "\n".join(t.replace("\n", " ") for _, t in found),
                "due": None if np.isnat(due_d[r]) else str(due_text[r]),
                "parent": ", ".join(sorted(p for p in parents if p)) or None,
                "url": str(cols["url"][r]),
            }
        )
    return pd.DataFrame(out, columns=ITEM_RISK_COLUMNS)
