"""Blocked time: calendar days flagged while between committed and done, and flags at as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .history import item_rows
from .timeutil import NS_PER_DAY, to_ms

_NAT = np.iinfo(np.int64).min


def _flagged(values: np.ndarray) -> np.ndarray:
    s = pd.Series(values, dtype=object)
    return (s.notna() & (s.astype(str).str.strip() != "")).to_numpy(dtype=bool)


def flag_intervals(cd: ColumnDates, changes: pd.DataFrame) -> pd.DataFrame:
    """Flagged periods per item up to as_of: row, start_ms, end_ms, open (still flagged at
    as_of; open ones end at as_of, and one unflagged exactly at as_of is not open)."""
    sel = changes[changes["field"].astype(object) == "flagged"]
    rows = item_rows(cd.items, sel)
    sel, rows = sel[rows >= 0], rows[rows >= 0]
    at = to_ms(sel["at"])
    order = np.lexsort((np.arange(len(rows)), at, rows))
    rows, at = rows[order], at[order]
    before = _flagged(sel["from_value"].astype(object).to_numpy()[order])
    after = _flagged(sel["to_value"].astype(object).to_numpy()[order])
    first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    created = to_ms(cd.items["created"])
    # the initial state (flagged at creation) is the first change's from_value
    init_rows = rows[first & before]
    keep = at <= cd.as_of_ms
    rows, at, after = rows[keep], at[keep], after[keep]
    ev_row = np.r_[init_rows, rows]
    ev_ms = np.r_[created[init_rows], at]
    ev_state = np.r_[np.ones(len(init_rows), dtype=bool), after]
    order = np.lexsort((np.r_[np.zeros(len(init_rows)), np.ones(len(rows))], ev_ms, ev_row))
    ev_row, ev_ms, ev_state = ev_row[order], ev_ms[order], ev_state[order]
    prev_state = np.r_[False, ev_state[:-1]] & np.r_[False, ev_row[1:] == ev_row[:-1]]
    starts = ev_state & ~prev_state  # a flag set twice in a row is one period
    # the period lasts until the next unflag event of the same row
    unflag = ~ev_state
    next_unflag = np.full(len(ev_row), cd.as_of_ms, dtype=np.int64)
    same = np.zeros(len(ev_row), dtype=bool)
    if len(ev_row):
        idx = np.arange(len(ev_row))
        marker = np.where(unflag, idx, len(ev_row))
        # next unflag at or after each position within the row (reverse cumulative min)
        rev = np.minimum.accumulate(marker[::-1])[::-1]
        nxt = np.r_[rev[1:], len(ev_row)]
        has = nxt < len(ev_row)
        same[has] = ev_row[nxt[has]] == ev_row[has]
        next_unflag[same] = ev_ms[nxt[same]]
    return pd.DataFrame(
        {
            "row": ev_row[starts],
            "start_ms": ev_ms[starts],
            "end_ms": next_unflag[starts],
            "open": ~same[starts],
        }
    )


def blocked_time(cd: ColumnDates, changes: pd.DataFrame) -> pd.DataFrame:
    """Per item: blocked_days (flagged calendar days between committed and done), flagged now."""
    iv = flag_intervals(cd, changes)
    items = cd.items
    n = len(items)
    committed = to_ms(items["committed_at"])
    done = to_ms(items["done_at"])
    r = iv["row"].to_numpy()
    lo = np.maximum(iv["start_ms"].to_numpy(), committed[r])
    hi_limit = np.where(done[r] == _NAT, cd.as_of_ms, done[r])
    hi = np.minimum(iv["end_ms"].to_numpy(), hi_limit)
    ok = (committed[r] != _NAT) & (hi > lo)
    days = np.zeros(len(r), dtype=np.int64)
    if ok.any():
        lo_day = _local_day_number(lo[ok], cd.tz)
        hi_day = _local_day_number(hi[ok], cd.tz)
        days[ok] = hi_day - lo_day
    blocked = np.bincount(r, weights=days, minlength=n).astype(np.int64) if n else days[:0]
    open_flag = iv["open"].to_numpy(dtype=bool)
    flagged_now = np.zeros(n, dtype=bool)
    since = np.full(n, _NAT, dtype=np.int64)
    flagged_now[r[open_flag]] = True
    since[r[open_flag]] = iv["start_ms"].to_numpy()[open_flag]
    since_ts = pd.Series(
        pd.to_datetime(
            np.where(since == _NAT, _NAT, since * 1_000_000).astype("datetime64[ns]")
        ).tz_localize("UTC")
    )
    return pd.DataFrame(
        {
            "source": items["source"].to_numpy(),
            "item_id": items["item_id"].to_numpy(),
            "key": items["key"].to_numpy(),
            "blocked_days": blocked,
            "flagged_now": flagged_now,
            "flagged_since": since_ts,
        }
    )


def _local_day_number(ms: np.ndarray, tz: str) -> np.ndarray:
    stamps = pd.to_datetime(ms * 1_000_000).tz_localize("UTC").tz_convert(tz)
    naive = stamps.tz_localize(None).normalize()
    return np.asarray(naive.asi8 // NS_PER_DAY, dtype=np.int64)
