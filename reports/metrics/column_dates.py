"""Column dates (jira-agile-metrics rules) replayed from status history as known at ``as_of``.

The result, :class:`ColumnDates`, is the world as known at ``as_of``: the items that existed then,
their mapped status events, the first-entry date of every workflow column (backwards moves wipe
later columns, skipped columns are back-filled), cycle and lead time, and unmapped statuses.
Every flow, sprint and roadmap calculator starts from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frames import validate_items, validate_transitions
from .history import asof_index, item_rows
from .timeutil import as_utc, check_tz, local_day, local_days, to_ms, whole_days
from .workflow import Workflow, WorkflowsLike, as_workflow_map, assign_workflows, position_table

_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class ColumnDates:
    """Replayed workflow history of every item known at ``as_of``.

    ``items``: one row per item (index = row number) with the input columns plus ``workflow``,
    ``status_at`` (its status at as_of, mapped or not; ``status`` is the current one),
    ``position``/``column`` (latest mapped column, -1/NA when none), ``committed_at``, ``done_at``
    (UTC, back-filled), ``created_day``, ``committed_day``, ``done_day`` (report-zone days),
    ``completed``, ``cycle_days``, ``lead_days``, ``last_move_at`` (last status change, any status).
    ``entries``: long frame row, workflow, column, position, at, day for every dated column.
    ``events``: mapped status events row, at_ms, position sorted by (row, time).
    ``unmapped``: source, project, status, items, events for statuses mapped to no column.
    """

    as_of: pd.Timestamp
    tz: str
    items: pd.DataFrame
    entries: pd.DataFrame
    events: pd.DataFrame
    unmapped: pd.DataFrame
    workflows: dict[str, Workflow]

    @property
    def today(self) -> pd.Timestamp:
        """The as_of calendar day in the report zone."""
        return local_day(self.as_of, self.tz)

    @property
    def as_of_ms(self) -> int:
        """as_of in epoch milliseconds."""
        return int(self.as_of.value // 1_000_000)

    def rows_of(self, frame: pd.DataFrame) -> np.ndarray:
        """Row numbers of (source, item_id) pairs; -1 for items unknown at as_of."""
        return item_rows(self.items, frame)

    def positions_at(self, rows: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
        """Mapped column position of each item row at each instant (-1 before any)."""
        ev = self.events
        idx = asof_index(ev["row"].to_numpy(), ev["at_ms"].to_numpy(), rows, times_ms)
        pos = ev["position"].to_numpy()
        return np.where(idx >= 0, pos[np.maximum(idx, 0)], -1)

    def done_at_times(self, rows: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
        """Whether each item's status at each instant maps to the done column or a later one."""
        pos = self.positions_at(rows, times_ms)
        done_idx = self.items["done_index"].to_numpy()[rows]
        return (pos >= 0) & (pos >= done_idx)

    def last_done_entry(self, rows: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
        """Millisecond instant each item last entered done at or before each time (int64 min)."""
        ev = self.events
        erow = ev["row"].to_numpy()
        epos = ev["position"].to_numpy()
        done_idx = self.items["done_index"].to_numpy()
        is_done = epos >= done_idx[erow]
        prev_done = np.r_[False, is_done[:-1]] & np.r_[False, erow[1:] == erow[:-1]]
        entry = is_done & ~prev_done
        e_row = erow[entry]
        e_ms = ev["at_ms"].to_numpy()[entry]
        idx = asof_index(e_row, e_ms, rows, times_ms)
        return np.where(idx >= 0, e_ms[np.maximum(idx, 0)], _NAT)

    def workflow(self, key: str | None = None) -> tuple[str, Workflow]:
        """The named workflow, or the only one in use."""
        if key is None:
            if len(self.workflows) != 1:
                raise ValueError(f"several workflows in use, name one of {sorted(self.workflows)}")
            key = next(iter(self.workflows))
        return key, self.workflows[key]


def known_items(items: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Mask of items that existed at ``as_of``: created by then and not yet deleted."""
    created = items["created"]
    deleted = items["deleted_at"]
    return (created <= as_of) & (deleted.isna() | (deleted > as_of))


def column_dates(
    items: pd.DataFrame,
    transitions: pd.DataFrame,
    workflows: WorkflowsLike,
    as_of: pd.Timestamp,
    tz: str,
) -> ColumnDates:
    """Replay status history up to ``as_of`` into column dates, cycle and lead times."""
    validate_items(items)
    validate_transitions(transitions)
    as_of = as_utc(as_of)
    check_tz(tz)
    as_of_ms = int(as_of.value // 1_000_000)

    known = items[known_items(items, as_of).to_numpy()].reset_index(drop=True)
    n = len(known)
    wf_names = assign_workflows(known, workflows)
    all_workflows = as_workflow_map(workflows).by_key()
    used = sorted({k for k in wf_names if k is not None})
    code_of = {k: i for i, k in enumerate(used)}
    wf_code = np.array([code_of.get(k, -1) for k in wf_names], dtype=np.int64)

    # -- events: creation (initial status) + transitions up to as_of -------------------------
    rows = item_rows(known, transitions)
    tr = transitions[rows >= 0]
    rows = rows[rows >= 0]
    t_ms = to_ms(tr["at"])
    created_ms = to_ms(known["created"])
    order = _by_row_and_time(rows, t_ms)
    rows, t_ms = rows[order], t_ms[order]
    from_s = tr["from_status"].astype(object).to_numpy()[order]
    to_s = tr["to_status"].astype(object).to_numpy()[order]

    initial = known["status"].astype(object).to_numpy().copy()
    if len(rows):
        first = np.r_[True, rows[1:] != rows[:-1]]
        first_from = from_s[first]
        has_from = pd.notna(first_from) & (pd.Series(first_from).astype(str) != "").to_numpy()
        initial[rows[first][has_from]] = first_from[has_from]

    cut = t_ms <= as_of_ms
    rows, t_ms, to_s = rows[cut], t_ms[cut], to_s[cut]
    t_ms = np.maximum(t_ms, created_ms[rows])  # a transition never precedes creation
    last_move = np.full(n, _NAT, dtype=np.int64)
    if len(rows):
        is_last = np.r_[rows[1:] != rows[:-1], True]
        last_move[rows[is_last]] = t_ms[is_last]

    # events by (row, time): each row's creation, then its transitions (already in that order,
    # none before the creation), so the order is known without sorting
    ev_row = np.r_[np.arange(n, dtype=np.int64), rows]
    ev_ms = np.r_[created_ms, t_ms]
    ev_status = np.r_[initial, to_s]
    per_row = np.bincount(rows, minlength=n)
    order = np.empty(len(ev_row), dtype=np.int64)
    order[np.arange(n) + np.cumsum(per_row) - per_row] = np.arange(n)
    order[np.arange(len(rows)) + rows + 1] = np.arange(n, len(ev_row))
    ev_row, ev_ms, ev_status = ev_row[order], ev_ms[order], ev_status[order]
    status_at = np.full(n, None, dtype=object)
    if n:
        last_event = np.r_[ev_row[1:] != ev_row[:-1], True]
        status_at[ev_row[last_event]] = ev_status[last_event]

    codes, uniques = pd.factorize(pd.Series(ev_status, dtype=object), use_na_sentinel=True)
    table = position_table(used, all_workflows, pd.Index(uniques))
    ev_wf = wf_code[ev_row]
    ev_pos = np.full(len(ev_row), -1, dtype=np.int16)
    ok = (ev_wf >= 0) & (codes >= 0)
    ev_pos[ok] = table[ev_wf[ok], codes[ok]]

    unmapped = _unmapped(known, ev_row, ev_status, ev_pos)

    mapped = ev_pos >= 0
    m_row, m_ms, m_pos = ev_row[mapped], ev_ms[mapped], ev_pos[mapped].astype(np.int64)
    events = pd.DataFrame({"row": m_row, "at_ms": m_ms, "position": m_pos})

    # -- first entry since the last wipe, then back-fill --------------------------------------
    ncols = max((len(all_workflows[k].columns) for k in used), default=0)
    dates = np.full((n, max(ncols, 1)), _NAT, dtype=np.int64)
    latest = np.full(n, -1, dtype=np.int64)
    if len(m_row):
        k = ncols + 1
        rev_key = m_pos[::-1] + m_row[::-1] * k
        suffix_min = (np.minimum.accumulate(rev_key) - m_row[::-1] * k)[::-1]
        after = np.r_[suffix_min[1:], ncols]
        last_of_row = np.r_[m_row[1:] != m_row[:-1], True]
        after[last_of_row] = ncols
        valid = after >= m_pos
        v_row, v_pos, v_ms = m_row[valid], m_pos[valid], m_ms[valid]
        first_entry = pd.DataFrame({"r": v_row, "p": v_pos}).duplicated().to_numpy()
        dates[v_row[~first_entry], v_pos[~first_entry]] = v_ms[~first_entry]
        latest[m_row[last_of_row]] = m_pos[last_of_row]
    for c in range(ncols - 2, -1, -1):
        empty = dates[:, c] == _NAT
        dates[empty, c] = dates[empty, c + 1]

    wf_committed = np.array([all_workflows[k].committed_index for k in used] + [0], dtype=np.int64)
    wf_done = np.array([all_workflows[k].done_index for k in used] + [0], dtype=np.int64)
    committed_idx = wf_committed[wf_code]  # code -1 picks the trailing 0
    done_idx = wf_done[wf_code]
    has_wf = wf_code >= 0
    ar = np.arange(n)
    committed_ms = np.where(has_wf, dates[ar, committed_idx] if n else _NAT, _NAT)
    done_ms = np.where(has_wf, dates[ar, done_idx] if n else _NAT, _NAT)

    out = known.copy()
    out["workflow"] = wf_names.to_numpy(dtype=object)
    out["committed_index"] = committed_idx
    out["done_index"] = np.where(has_wf, done_idx, np.iinfo(np.int64).max)
    out["position"] = latest
    out["status_at"] = status_at
    name_table = np.full((len(used) + 1, max(ncols, 1) + 1), None, dtype=object)
    for w, key in enumerate(used):
        name_table[w, : len(all_workflows[key].columns)] = all_workflows[key].names
    out["column"] = pd.Series(name_table[wf_code, latest], dtype=object)
    out["created"] = _ms_to_utc(created_ms)
    out["committed_at"] = _ms_to_utc(committed_ms)
    out["done_at"] = _ms_to_utc(done_ms)
    out["last_move_at"] = _ms_to_utc(last_move)
    out["created_day"] = local_days(out["created"], tz)
    out["committed_day"] = local_days(out["committed_at"], tz)
    out["done_day"] = local_days(out["done_at"], tz)
    out["completed"] = out["done_at"].notna().to_numpy()
    out["cycle_days"] = whole_days(out["done_day"], out["committed_day"])
    out["lead_days"] = whole_days(out["done_day"], out["created_day"])

    entries = _entries(dates, wf_code, used, all_workflows, tz)
    in_use = {k: all_workflows[k] for k in used}
    return ColumnDates(as_of, tz, out, entries, events, unmapped, in_use)


def _by_row_and_time(rows: np.ndarray, ms: np.ndarray) -> np.ndarray:
    """Stable order by (row, time): one int64 key when it fits (near-linear on input already in
    that order, as the store gives it), else a lexsort."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    base = int(ms.min())
    span = int(ms.max()) - base + 1
    if (int(rows.max()) + 1) * span >= 2**62:  # pragma: no cover - only for absurd time spans
        return np.lexsort((np.arange(len(rows)), ms, rows))
    return np.argsort(rows.astype(np.int64) * span + (ms - base), kind="stable")


def _ms_to_utc(ms: np.ndarray) -> pd.Series:
    arr = np.where(ms == _NAT, np.iinfo(np.int64).min, ms * 1_000_000).astype("datetime64[ns]")
    return pd.Series(pd.to_datetime(arr).tz_localize("UTC"))


def _entries(
    dates: np.ndarray,
    wf_code: np.ndarray,
    used: list[str],
    workflows: dict[str, Workflow],
    tz: str,
) -> pd.DataFrame:
    parts = []
    for w, key in enumerate(used):
        rows = np.flatnonzero(wf_code == w)
        for p, col in enumerate(workflows[key].columns):
            ms = dates[rows, p]
            has = ms != _NAT
            parts.append(
                pd.DataFrame(
                    {
                        "row": rows[has],
                        "workflow": key,
                        "column": col.name,
                        "position": p,
                        "at_ms": ms[has],
                    }
                )
            )
    if not parts:
        frame = pd.DataFrame({"row": [], "workflow": [], "column": [], "position": [], "at_ms": []})
    else:
        frame = pd.concat(parts, ignore_index=True)
    frame["at"] = _ms_to_utc(frame["at_ms"].to_numpy(dtype=np.int64))
    frame["day"] = local_days(frame["at"], tz)
    return frame.drop(columns="at_ms")


def _unmapped(
    known: pd.DataFrame, ev_row: np.ndarray, ev_status: np.ndarray, ev_pos: np.ndarray
) -> pd.DataFrame:
    bad = ev_pos < 0
    frame = pd.DataFrame(
        {
            "source": known["source"].astype(object).to_numpy()[ev_row[bad]],
            "project": known["project"].astype(object).to_numpy()[ev_row[bad]],
            "status": pd.Series(ev_status[bad], dtype=object).fillna("(none)").to_numpy(),
            "row": ev_row[bad],
        }
    )
    if frame.empty:
        return pd.DataFrame({"source": [], "project": [], "status": [], "items": [], "events": []})
    grouped = frame.groupby(["source", "project", "status"], sort=True)["row"]
    result = grouped.agg(items="nunique", events="size").reset_index()
    return result
