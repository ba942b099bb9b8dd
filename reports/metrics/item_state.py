"""Roadmap items and their children as they stood at any instant, replayed in bulk from history.

The pipeline replays history once, to as_of (:class:`ColumnDates`, :class:`RoadmapScope`). The
forecast needs the same picture at as_of *and* at each of the last 26 Mondays (the track record,
METRICS §4), as the store knew it then: which children an item had (parent / fix-version
history), which of them had started, finished or moved, when each was added, what the item's
target was. :class:`Replay` answers that for many instants at once from the events already
replayed, with one as-of search per fact for every (instant, child) pair, instead of a full
replay per instant.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .column_dates import ColumnDates
from .flow import flow_items
from .forecast_inputs import NAT
from .history import Grid, Membership, asof_index, due_history
from .roadmap import ROADMAP_TYPES, RoadmapScope, target_days
from .timeutil import day_start_utc, local_day, local_days, to_ms


@dataclass(frozen=True)
class State:
    """Roadmap items (``items``) and their children (``kids``) at one instant ``at_ms`` (see
    :mod:`pulse.reports.metrics.forecast_inputs` for the columns); items unknown then are left
    out."""

    at_ms: int
    items: pd.DataFrame
    kids: pd.DataFrame


@dataclass(frozen=True)
class Replay:
    """Per (instant, child pair) facts, computed together for every instant asked for."""

    times: np.ndarray
    scope: RoadmapScope
    cd: ColumnDates
    pair_ri: np.ndarray
    pair_row: np.ndarray
    inside: np.ndarray  # instants x pairs
    added: np.ndarray
    position: np.ndarray
    done_entry: np.ndarray
    moved: np.ndarray
    own_done: np.ndarray  # instants x roadmap items
    target: np.ndarray
    first_committed: np.ndarray  # per item row
    work_rows: np.ndarray  # the items throughput counts
    work_done: np.ndarray  # instants x work rows: when each last became done (int64 min: open)

    @staticmethod
    def _work_done(
        cd: ColumnDates, t: np.ndarray, exclude_types: Collection[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the items throughput counts, and per instant when each became done."""
        rows = flow_items(cd, exclude_types=exclude_types).index.to_numpy(dtype=np.int64)
        g = Grid.of(rows, t)
        done = cd.done_at_times(g.rows, g.times)
        return rows, g.back(np.where(done, cd.last_done_entry(g.rows, g.times), NAT))

    def samples(self, k: int, weeks: int) -> dict[str, np.ndarray]:
        """Per team, items done per week over the ``weeks`` whole weeks before the week of the
        ``k``-th instant, as known then (what :func:`throughput.throughput_samples` gives)."""
        cd = self.cd
        today = local_day(pd.Timestamp(int(self.times[k]), unit="ms", tz="UTC"), cd.tz)
        current = today - pd.Timedelta(days=int(today.day_of_week))
        first = current - pd.Timedelta(weeks=weeks)
        lo = int(day_start_utc(first, cd.tz).value // 1_000_000)
        hi = int(day_start_utc(current, cd.tz).value // 1_000_000)
        done = self.work_done[k]
        hit = (done >= lo) & (done < hi)
        days = local_days(pd.Series(pd.to_datetime(done[hit], unit="ms", utc=True)), cd.tz)
        week = ((days - first).dt.days // 7).to_numpy(dtype=np.int64)
        teams = cd.items["team"].astype(str).to_numpy()
        names = sorted(set(teams))
        code = {t: i for i, t in enumerate(names)}
        team_of = np.array([code[x] for x in teams[self.work_rows[hit]]], dtype=np.int64)
        counts = np.zeros((len(names), weeks))
        np.add.at(counts, (team_of, week), 1.0)
        return {t: counts[i] for i, t in enumerate(names)}

    @classmethod
    def build(
        cls,
        scope: RoadmapScope,
        cd: ColumnDates,
        changes: pd.DataFrame,
        times: Sequence[int],
        roadmap_types: Collection[str] = ROADMAP_TYPES,
    ) -> Replay:
        """Replay every child pair of every roadmap item, and every work item's completion, at
        each instant of ``times`` (ms)."""
        t = np.asarray(times, dtype=np.int64)
        items = cd.items
        created = to_ms(items["created"])
        ri_parts, row_parts, inside, added = [], [], [], []
        for mem, owner in scope.members:
            ok = owner >= 0
            pid = mem.pairs["pair"].to_numpy(dtype=np.int64)[ok]
            rows = mem.pairs["row"].to_numpy(dtype=np.int64)[ok]
            ri_parts.append(owner[ok])
            row_parts.append(rows)
            g = Grid.of(pid, t)
            inside.append(g.back(mem.member_at(g.rows, g.times)))
            added.append(_last_entries(mem, g))
        pair_ri = np.concatenate(ri_parts) if ri_parts else np.zeros(0, dtype=np.int64)
        pair_row = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
        shape = (len(t), len(pair_ri))
        inside_all = np.hstack(inside) if inside else np.zeros(shape, dtype=bool)
        inside_all &= created[pair_row][None, :] <= t[:, None]
        added_all = np.hstack(added) if added else np.zeros(shape, dtype=np.int64)
        g = Grid.of(pair_row, t)
        ev = cd.events
        e_row = ev["row"].to_numpy(dtype=np.int64)
        e_ms = ev["at_ms"].to_numpy(dtype=np.int64)
        idx = asof_index(e_row, e_ms, g.rows, g.times)
        position = np.where(idx >= 0, ev["position"].to_numpy()[np.maximum(idx, 0)], -1)
        moved = np.where(idx >= 0, e_ms[np.maximum(idx, 0)], NAT)
        moved = np.where(moved > created[g.rows], moved, NAT)  # the creation is no move
        done_entry = cd.last_done_entry(g.rows, g.times)
        rm = scope.roadmap
        rm_rows = rm["row"].to_numpy(dtype=np.int64)
        own_done = np.zeros((len(t), len(rm)), dtype=bool)
        target = np.full((len(t), len(rm)), np.datetime64("NaT"), dtype="datetime64[ns]")
        epic = np.flatnonzero(rm_rows >= 0)
        if len(epic):
            e = Grid.of(rm_rows[epic], t)
            own_done[:, epic] = e.back(cd.done_at_times(e.rows, e.times))
            due = due_history(items, changes, cd.as_of_ms).value_at(e.rows, e.times)
            days = target_days(pd.to_datetime(pd.Series(due, dtype=object), utc=True), cd.tz)
            target[:, epic] = e.back(days.to_numpy(dtype="datetime64[ns]"))
        version = np.flatnonzero(rm_rows < 0)
        if len(version):
            # a version's release date has no history: its date now, released once it passed
            release = rm["target_day"].to_numpy(dtype="datetime64[ns]")[version]
            target[:, version] = release[None, :]
            done_ms = to_ms(rm["done_at"].iloc[version])
            released = rm["own_done"].to_numpy(dtype=bool)[version]
            own_done[:, version] = released[None, :] & (done_ms[None, :] <= t[:, None])
        return cls(
            t,
            scope,
            cd,
            pair_ri,
            pair_row,
            inside_all,
            added_all,
            g.back(position),
            g.back(done_entry),
            g.back(moved),
            own_done,
            target,
            _first_committed(cd),
            *cls._work_done(cd, t, roadmap_types),
        )

    def state(self, k: int) -> State:
        """Roadmap items and children at the ``k``-th instant."""
        at = int(self.times[k])
        cd, rm = self.cd, self.scope.roadmap
        inside = self.inside[k]
        rows = self.pair_row[inside]
        items = cd.items
        done_idx = items["done_index"].to_numpy()[rows]
        commit_idx = items["committed_index"].to_numpy()[rows]
        pos = self.position[k][inside]
        completed = (pos >= 0) & (pos >= done_idx)
        kids = pd.DataFrame(
            {
                "ri": self.pair_ri[inside],
                "row": rows,
                "created_ms": to_ms(items["created"])[rows],
                "added_ms": self.added[k][inside],
                "committed_ms": self.first_committed[rows],
                "done_ms": np.where(completed, self.done_entry[k][inside], NAT),
                "moved_ms": self.moved[k][inside],
                "completed": completed,
            }
        )
        started = (kids["committed_ms"].to_numpy() != NAT) & (kids["committed_ms"].to_numpy() <= at)
        started |= (pos >= commit_idx) & (pos >= 0)
        kids["committed_ms"] = np.where(started, kids["committed_ms"].to_numpy(), NAT)
        kids.loc[started & (kids["committed_ms"] == NAT), "committed_ms"] = at
        n = len(rm)
        ri = kids["ri"].to_numpy(dtype=np.int64)
        scope = np.bincount(ri, minlength=n)
        done_kids = np.bincount(ri, weights=completed, minlength=n).astype(np.int64)
        first = pd.Series(kids["committed_ms"].where(started)).groupby(ri).min()
        start = np.full(n, NAT, dtype=np.int64)
        start[first.index.to_numpy(dtype=np.int64)] = first.fillna(NAT).to_numpy(dtype=np.int64)
        created = to_ms(rm["created"])
        is_version = rm["row"].to_numpy() < 0
        known = np.where(is_version, scope > 0, (created != NAT) & (created <= at))
        own = self.own_done[k]
        done = own | ((scope > 0) & (scope == done_kids))
        frame = pd.DataFrame(
            {
                "ri": np.arange(n),
                "team": rm["team"].astype(str).to_numpy(),
                "kind": rm["kind"].astype(str).to_numpy(),
                "started_ms": start,
                "scope": scope,
                "remaining": scope - done_kids,
                "done": done,
                "target_day": self.target[k],
            }
        )
        return State(at, frame[known].reset_index(drop=True), kids)


def _last_entries(mem: Membership, grid: Grid) -> np.ndarray:
    """Per (instant, pair) of ``grid``: the last time the pair's item entered the set at or
    before the instant (int64 min when never)."""
    e_pair = mem.ev_pair[mem.enter]
    e_ms = mem.ev_ms[mem.enter]
    idx = asof_index(e_pair, e_ms, grid.rows, grid.times)
    return grid.back(np.where(idx >= 0, e_ms[np.maximum(idx, 0)], NAT))


def _first_committed(cd: ColumnDates) -> np.ndarray:
    """Per item row, the first instant (ms) its status mapped to committed or later."""
    ev = cd.events
    rows = ev["row"].to_numpy(dtype=np.int64)
    commit = cd.items["committed_index"].to_numpy()[rows]
    ok = (ev["position"].to_numpy() >= commit) & (ev["position"].to_numpy() >= 0)
    out = np.full(len(cd.items), NAT, dtype=np.int64)
    first = pd.Series(ev["at_ms"].to_numpy(dtype=np.int64)[ok]).groupby(rows[ok]).min()
    out[first.index.to_numpy(dtype=np.int64)] = first.to_numpy(dtype=np.int64)
    return out
