"""Point-in-time lookups: as-of index, field values, set membership."""

from __future__ import annotations

import numpy as np

from pulse.reports.metrics.history import (
    FieldHistory,
    Grid,
    Membership,
    asof_index,
    split_values,
)

from .factories import changes, item, items


def test_asof_index_by_hand():
    ev_row = np.array([0, 0, 1])
    ev_ms = np.array([10, 20, 5])
    got = asof_index(ev_row, ev_ms, np.array([0, 0, 0, 1, 1, 2]), np.array([9, 10, 25, 4, 5, 99]))
    assert got.tolist() == [-1, 0, 1, -1, 2, -1]


def test_grid_answers_every_instant_and_row_in_the_order_asked():
    ev_row = np.array([0, 0, 1, 2, 2])
    ev_ms = np.array([10, 20, 5, 1, 30])
    rows = np.array([2, 0, 1, 0])  # unsorted, one row twice
    times = np.array([25, 4, 10])  # unsorted instants
    grid = Grid.of(rows, times)
    assert grid.rows.tolist() == sorted(grid.rows.tolist())  # the search walks events once
    got = grid.back(asof_index(ev_row, ev_ms, grid.rows, grid.times))
    assert got.shape == (3, 4)
    for k, t in enumerate(times):
        assert got[k].tolist() == asof_index(ev_row, ev_ms, rows, np.full(4, t)).tolist()
    assert got.tolist() == [[3, 1, 2, 1], [3, -1, -1, -1], [3, 0, 2, 0]]


def test_split_values():
    assert split_values("12, 13") == {"12", "13"}
    assert split_values("") == frozenset()
    assert split_values(None) == frozenset()


def test_field_value_uses_initial_then_changes_then_current():
    its = items(item("a", "2026-03-01"), item("b", "2026-03-01"))
    ch = changes(
        ("a", "2026-03-05", "assignee", "ann", "bob"), ("a", "2026-03-09", "assignee", "bob", "cy")
    )
    hist = FieldHistory.build(
        its,
        ch,
        "assignee",
        current=np.array(["cy", "dee"], dtype=object),
        as_of_ms=int(np.datetime64("2026-03-07", "ms").astype(np.int64)),
    )
    t = np.array(["2026-03-02", "2026-03-06", "2026-03-10", "2026-03-02"], dtype="datetime64[ms]")
    got = hist.value_at(np.array([0, 0, 0, 1]), t.astype(np.int64))
    # 03-10 is after as_of (03-07): the 03-09 change is unknown, so still bob
    assert got.tolist() == ["ann", "bob", "bob", "dee"]


def test_membership_enter_and_leave():
    its = items(item("a", "2026-03-01"))
    ch = changes(
        ("a", "2026-03-05", "sprint", "", "1"),
        ("a", "2026-03-08", "sprint", "1", "1,2"),
        ("a", "2026-03-09", "sprint", "1,2", "2"),
    )
    ms = int(np.datetime64("2026-03-31", "ms").astype(np.int64))
    mem = Membership.build(its, ch, "sprint", np.array(["2"], dtype=object), np.array([True]), ms)
    pairs = mem.pairs.set_index("member")["pair"]
    t = np.array(["2026-03-06", "2026-03-10"], dtype="datetime64[ms]").astype(np.int64)
    assert mem.member_at(np.array([pairs["1"]] * 2), t).tolist() == [True, False]
    assert mem.member_at(np.array([pairs["2"]] * 2), t).tolist() == [False, True]
