"""Point-in-time lookups over item histories: 'what was this field at instant t', vectorised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .timeutil import to_ms

_NAT = np.iinfo(np.int64).min


def item_rows(items: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """Row number in ``items`` of each (source, item_id) in ``other``; -1 when unknown."""
    if len(other) == 0:
        return np.empty(0, dtype=np.int64)
    n = len(items)
    src, _ = pd.factorize(
        np.concatenate(
            [items["source"].astype(object).to_numpy(), other["source"].astype(object).to_numpy()]
        )
    )
    ids, uniq = pd.factorize(
        np.concatenate(
            [items["item_id"].astype(object).to_numpy(), other["item_id"].astype(object).to_numpy()]
        )
    )
    key = src.astype(np.int64) * (len(uniq) + 1) + ids
    index = pd.Index(key[:n])
    if not index.is_unique:
        index = pd.Index(pd.Series(key[:n]).drop_duplicates(keep="first"))
        first = pd.Series(np.arange(n), index=key[:n]).groupby(level=0).first()
        hit = index.get_indexer(key[n:])
        return np.where(hit >= 0, first.reindex(index).to_numpy()[np.maximum(hit, 0)], -1)
    return np.asarray(index.get_indexer(key[n:]), dtype=np.int64)


def asof_index(
    ev_row: np.ndarray, ev_ms: np.ndarray, q_row: np.ndarray, q_ms: np.ndarray
) -> np.ndarray:
    """Index of the last event of the same row at or before each query time, -1 when none.

    Events must be sorted by (row, time). Times are int64 milliseconds.
    """
    out = np.full(len(q_row), -1, dtype=np.int64)
    if len(ev_row) == 0 or len(q_row) == 0:
        return out
    ok_q = q_ms != _NAT
    every = bool(ok_q.all())
    if not every:
        if not ok_q.any():
            return out
        q_row, q_ms = q_row[ok_q], q_ms[ok_q]
    base = min(int(ev_ms.min()), int(q_ms.min()))
    span = max(int(ev_ms.max()), int(q_ms.max())) - base + 1
    top = max(int(ev_row.max()), int(q_row.max())) + 1
    if top * span >= 2**62:  # pragma: no cover - only for absurd time spans
        raise OverflowError("time span too large for the as-of index")
    ev_key = ev_row.astype(np.int64) * span
    ev_key += ev_ms - base
    q_key = q_row.astype(np.int64) * span
    q_key += q_ms - base
    pos = np.searchsorted(ev_key, q_key, side="right") - 1
    hit = ev_row[np.maximum(pos, 0)] == q_row
    hit &= pos >= 0
    res = np.where(hit, pos, -1)
    if every:
        return res
    out[ok_q] = res
    return out


@dataclass(frozen=True)
class Grid:
    """Every (instant, row) pair as flat as-of queries (``rows``, ``times``), ordered by (row,
    instant): sorted queries let :func:`asof_index`'s search walk the events once (several times
    faster than instant by instant); :meth:`back` lays the answers out as instants x rows."""

    rows: np.ndarray
    times: np.ndarray
    row_rank: np.ndarray  # where each row asked for sits among the sorted rows
    time_rank: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, times: np.ndarray) -> Grid:
        """The queries of every row at every instant (in any order)."""
        row_order = np.argsort(rows, kind="stable")
        time_order = np.argsort(times, kind="stable")
        flat_rows = np.repeat(np.asarray(rows)[row_order], len(time_order))
        flat_times = np.tile(np.asarray(times)[time_order], len(row_order))
        return cls(flat_rows, flat_times, _rank(row_order), _rank(time_order))

    def back(self, values: np.ndarray) -> np.ndarray:
        """One answer per query as an array of instants x rows, in the order asked."""
        table = np.asarray(values).reshape(len(self.row_rank), len(self.time_rank))
        return np.ascontiguousarray(table[self.row_rank][:, self.time_rank].T)


def _rank(order: np.ndarray) -> np.ndarray:
    """The inverse of a permutation: where each position went."""
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank


def split_values(value: object) -> frozenset[str]:
    """'12,13' -> {'12', '13'}; empty / missing -> empty set."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return frozenset()
    return frozenset(v.strip() for v in str(value).split(",") if v.strip())


@dataclass(frozen=True)
class FieldHistory:
    """One field's changes keyed by item row, sorted by time, with initial and current values."""

    row: np.ndarray
    at_ms: np.ndarray
    to_value: np.ndarray
    initial: np.ndarray
    has_changes: np.ndarray
    current: np.ndarray

    @classmethod
    def build(
        cls,
        items: pd.DataFrame,
        changes: pd.DataFrame,
        field: str,
        current: np.ndarray | pd.Series | None = None,
        as_of_ms: int | None = None,
    ) -> FieldHistory:
        """Collect the ``field`` changes of the known items; later-than-as_of changes are dropped.

        The value before the first change (the initial value) is that change's ``from_value``
        even when the change itself is after ``as_of``; an item with no change has its current
        value all along.
        """
        n = len(items)
        sel = changes[changes["field"].astype(object) == field]
        rows = item_rows(items, sel)
        keep = rows >= 0
        sel = sel[keep]
        rows = rows[keep]
        at = to_ms(sel["at"])
        order = np.lexsort((np.arange(len(rows)), at, rows))
        rows, at = rows[order], at[order]
        from_v = sel["from_value"].astype(object).to_numpy()[order]
        to_v = sel["to_value"].astype(object).to_numpy()[order]
        initial = np.full(n, None, dtype=object)
        has = np.zeros(n, dtype=bool)
        if len(rows):
            first = np.r_[True, rows[1:] != rows[:-1]]
            initial[rows[first]] = from_v[first]
            has[rows[first]] = True
        if as_of_ms is not None:
            cut = at <= as_of_ms
            rows, at, to_v = rows[cut], at[cut], to_v[cut]
        if current is None:
            cur = np.full(n, None, dtype=object)
        else:
            cur = np.asarray(current, dtype=object)
        return cls(rows, at, to_v, initial, has, cur)

    def value_at(self, rows: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
        """Value of the field for each (row, time): last change at or before, else initial."""
        idx = asof_index(self.row, self.at_ms, rows, times_ms)
        out = np.where(self.has_changes[rows], self.initial[rows], self.current[rows])
        hit = idx >= 0
        out[hit] = self.to_value[idx[hit]]
        return out


def to_float(values: np.ndarray) -> np.ndarray:
    """Text estimates ('3', '0.5', '', None) -> float64 with NaN for missing or non-numeric."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64
    )


@dataclass(frozen=True)
class Membership:
    """Membership of items in named sets over time (sprints, parent, fix versions).

    ``pairs``: pair, row, member. For every pair the events of its item are stored in time order
    with ``member`` (in the set after the event), ``enter`` and ``leave`` flags. The first event
    of every item is its creation, carrying the initial value.
    """

    pairs: pd.DataFrame
    ev_pair: np.ndarray
    ev_ms: np.ndarray
    ev_member: np.ndarray
    enter: np.ndarray
    leave: np.ndarray

    @classmethod
    def build(
        cls,
        items: pd.DataFrame,
        changes: pd.DataFrame,
        field: str,
        current: np.ndarray,
        eligible: np.ndarray,
        as_of_ms: int,
        universe: set[str] | None = None,
    ) -> Membership:
        """Replay ``field`` (comma-separated values) for the eligible item rows up to as_of."""
        hist = FieldHistory.build(items, changes, field, current=current, as_of_ms=as_of_ms)
        rows = np.flatnonzero(eligible)
        init = np.where(hist.has_changes[rows], hist.initial[rows], hist.current[rows])
        created = to_ms(items["created"])
        keep = eligible[hist.row] if len(hist.row) else np.zeros(0, dtype=bool)
        ev_row = np.r_[rows, hist.row[keep]].astype(np.int64)
        ev_ms = np.r_[created[rows], hist.at_ms[keep]].astype(np.int64)
        ev_seq = np.r_[np.zeros(len(rows)), np.arange(1, int(keep.sum()) + 1)].astype(np.int64)
        values = np.r_[init, hist.to_value[keep]]
        eid = np.arange(len(ev_row))
        long = explode_values(values)
        if universe is not None:
            long = long[long["member"].isin(list(universe))]
        long = long.drop_duplicates().reset_index(drop=True)
        long["row"] = ev_row[long["eid"].to_numpy(dtype=np.int64)]
        pairs = long[["row", "member"]].drop_duplicates().reset_index(drop=True)
        pairs["pair"] = np.arange(len(pairs))
        ev = pd.DataFrame({"row": ev_row, "eid": eid, "at_ms": ev_ms, "seq": ev_seq})
        pe = pairs.merge(ev, on="row", how="inner")
        pe = pe.merge(long.assign(flag=True), on=["eid", "member", "row"], how="left")
        pe = pe.sort_values(["pair", "at_ms", "seq"], kind="stable")
        p_pair = pe["pair"].to_numpy(dtype=np.int64)
        p_ms = pe["at_ms"].to_numpy(dtype=np.int64)
        p_mem = pe["flag"].notna().to_numpy(dtype=bool)
        prev = np.r_[False, p_mem[:-1]] & np.r_[False, p_pair[1:] == p_pair[:-1]]
        return cls(pairs, p_pair, p_ms, p_mem, p_mem & ~prev, ~p_mem & prev)

    def member_at(self, pair_ids: np.ndarray, times_ms: np.ndarray) -> np.ndarray:
        """Whether each pair's item was in the set at each instant."""
        idx = asof_index(self.ev_pair, self.ev_ms, pair_ids, times_ms)
        return (idx >= 0) & self.ev_member[np.maximum(idx, 0)]

    def _edge(self, flags: np.ndarray, lo: np.ndarray, hi: np.ndarray, how: str) -> np.ndarray:
        pair = self.ev_pair[flags]
        ms = self.ev_ms[flags]
        ok = (ms > lo[pair]) & (ms <= hi[pair])
        out = np.full(len(self.pairs), np.iinfo(np.int64).min, dtype=np.int64)
        agg = pd.DataFrame({"pair": pair[ok], "ms": ms[ok]}).groupby("pair")["ms"].agg(how)
        out[agg.index.to_numpy(dtype=np.int64)] = agg.to_numpy(dtype=np.int64)
        return out

    def first_enter(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per pair, the first entry in (lo, hi] (int64 min when none); lo/hi indexed by pair."""
        return self._edge(self.enter, lo, hi, "min")

    def last_enter(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per pair, the last entry in (lo, hi]."""
        return self._edge(self.enter, lo, hi, "max")

    def last_leave(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per pair, the last exit in (lo, hi]."""
        return self._edge(self.leave, lo, hi, "max")


def explode_values(values: np.ndarray) -> pd.DataFrame:
    """Comma-separated values per event -> long frame (eid, member), blanks dropped: events with
    one value first, then those with several, each in event order."""
    text = pd.Series(values, dtype=object).fillna("").astype(str).to_numpy(dtype=object)
    # a few distinct texts (sprint ids, parent keys): split and strip each once, not per event
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype=object)
    plain = ~distinct.str.contains(",", regex=False).to_numpy(dtype=bool)
    single_eid = np.flatnonzero(plain[codes])
    single = distinct.str.strip().to_numpy(dtype=object)[codes[single_eid]]
    split = distinct[~plain].str.split(",")
    lens = np.zeros(len(distinct), dtype=np.int64)
    lens[~plain] = [len(p) for p in split]
    starts = np.cumsum(lens) - lens  # where each distinct text's parts begin in ``parts``
    parts = pd.Series(split.explode().to_numpy(dtype=object), dtype=object).str.strip()
    multi_eid = np.flatnonzero(~plain[codes])
    n = lens[codes[multi_eid]]
    within = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    many = parts.to_numpy(dtype=object)[np.repeat(starts[codes[multi_eid]], n) + within]
    long = pd.DataFrame(
        {"eid": np.r_[single_eid, np.repeat(multi_eid, n)], "member": np.r_[single, many]}
    )
    long = long[long["member"] != ""]
    return long.astype({"eid": np.int64, "member": object}).reset_index(drop=True)


def current_values(items: pd.DataFrame, links: pd.DataFrame, column: str) -> np.ndarray:
    """Comma-joined current values per item row from a (source, item_id, column) frame."""
    out = np.full(len(items), "", dtype=object)
    rows = item_rows(items, links)
    ok = rows >= 0
    if ok.any():
        r = rows[ok]
        v = links[column].astype(str).to_numpy(dtype=object)[ok]
        order = np.argsort(r, kind="stable")  # each row's values in the frame's order
        r, v = r[order], v[order]
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        ends = np.r_[starts[1:], len(r)]
        single = ends - starts == 1
        out[r[starts[single]]] = v[starts[single]]
        for lo, hi in zip(starts[~single], ends[~single], strict=True):
            out[r[lo]] = ",".join(v[lo:hi])
    return out


def due_history(items: pd.DataFrame, changes: pd.DataFrame, as_of_ms: int) -> FieldHistory:
    """Every item's own due date over time: the ``due_date`` history, its current ``due``."""
    current = items["due"].astype(object).to_numpy()
    return FieldHistory.build(items, changes, "due_date", current=current, as_of_ms=as_of_ms)


def sprint_membership(
    items: pd.DataFrame,
    changes: pd.DataFrame,
    item_sprints: pd.DataFrame,
    eligible: np.ndarray,
    as_of_ms: int,
    universe: set[str] | None = None,
) -> Membership:
    """The sprints each eligible item was in over time: the ``sprint`` history, its current
    sprints (``item_sprints``) after the last change. Sprints are named by :func:`scoped` keys
    (two sites both number sprints from 1), and so is ``universe``."""
    current = scoped_current_sprints(items, item_sprints)
    return Membership.build(
        items, scoped_sprint_changes(changes), "sprint", current, eligible, as_of_ms, universe
    )


def scoped(sources: pd.Series, ids: pd.Series) -> list[str]:
    """One key per (source, id): ids from different sources never meet."""
    src = sources.astype(str).to_numpy(dtype=object)
    sid = ids.astype(str).to_numpy(dtype=object)
    return [f"{s}\x1f{i}" for s, i in zip(src, sid, strict=True)]


def scoped_current_sprints(items: pd.DataFrame, item_sprints: pd.DataFrame) -> np.ndarray:
    """Each item's current sprints, comma-joined, scoped by source like the sprint changes."""
    scoped_ids = scoped(item_sprints["source"], item_sprints["sprint_id"])
    return current_values(items, item_sprints.assign(sprint_id=scoped_ids), "sprint_id")


def scoped_sprint_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """The changes, with every sprint value (comma-separated ids) scoped by its source."""
    sprint = changes["field"].to_numpy() == "sprint"
    if not sprint.any():
        return changes
    out = changes.copy()
    part = out.loc[sprint]
    sources = part["source"].astype(str).to_numpy(dtype=object)
    done: dict[tuple[str, Any], Any] = {}  # the same few values repeat: scope each once
    for column in ("from_value", "to_value"):
        values = part[column].to_numpy(dtype=object)
        scoped_values: list[Any] = []
        for src, value in zip(sources, values, strict=True):
            hit = done.get((src, value), done)
            if hit is done:
                hit = done[(src, value)] = (
                    value
                    if not isinstance(value, str) or not value
                    else ",".join(f"{src}\x1f{v.strip()}" for v in value.split(",") if v.strip())
                )
            scoped_values.append(hit)
        out.loc[sprint, column] = scoped_values
    return out
