"""Hand-worked examples of what the item forecast starts from (METRICS §4)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pulse.reports.metrics.forecast_inputs import (
    DAY_MS,
    NAT,
    WEEK_MS,
    dormant_chance,
    growth_ratios,
    history_shares,
    stale_children,
)
from pulse.reports.metrics.health import status_of
from pulse.reports.metrics.track_record import statuses

NOW = 1_000 * DAY_MS  # a Monday's midnight in ms, any will do
WEEK = NOW  # the current week starts at NOW


def items(**cols):
    base = {
        "ri": [0, 1],
        "team": ["web", "web"],
        "kind": ["epic", "epic"],
        "started_ms": [NOW - 10 * WEEK_MS, NAT],
        "scope": [10, 4],
        "remaining": [4, 4],
        "done": [False, False],
    }
    base.update(cols)
    return pd.DataFrame(base)


def kids(rows):
    cols = ["ri", "created_ms", "added_ms", "committed_ms", "done_ms", "moved_ms", "completed"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["row"] = np.arange(len(frame))
    return frame


def test_share_is_what_the_item_received_shrunk_towards_an_even_split():
    # team: 10 items a week for 12 weeks; epic 0 (started 10 weeks ago) finished 6 children in
    # those 10 weeks, epic 1 nothing. prior = one average week = 10, k = 2 open items.
    done = [[0, NOW - 90 * DAY_MS, NOW - 90 * DAY_MS, NOW - 9 * WEEK_MS, NOW - w * WEEK_MS,
             NOW - w * WEEK_MS, True] for w in range(1, 7)]  # fmt: skip
    frame = kids(done)
    share = history_shares(items(), frame, {"web": np.full(12, 10.0)}, WEEK)
    # epic 0: (6 + 10 / 2) / (10 weeks x 10 + 10) = 11 / 110
    assert share[0] == 0.1
    # epic 1 never started: its window is the whole 12 weeks, (0 + 5) / (120 + 10)
    assert share[1] == 5 / 130


def test_an_item_without_team_history_gets_an_even_split():
    share = history_shares(items(), kids([]), {"web": np.zeros(12)}, WEEK)
    assert list(share) == [0.5, 0.5]


def test_growth_is_children_added_after_work_started_over_those_there_then():
    start = NOW - 10 * WEEK_MS
    rows = [
        [0, start - DAY_MS, start - DAY_MS, start, NAT, NAT, False],  # there at the start
        [0, start - DAY_MS, start - DAY_MS, NAT, NAT, NAT, False],  # there at the start
        [0, start + DAY_MS, start + DAY_MS, NAT, NAT, NAT, False],  # added after: growth
        [1, NOW, NOW, NAT, NAT, NAT, False],  # item 1 never started: no growth sample
    ]
    pools = growth_ratios(items(), kids(rows))
    # after / (after + before) = 1 / 3
    np.testing.assert_allclose(pools["web"], [1 / 3])


def test_stale_children_are_untouched_for_60_days_while_a_sibling_moved():
    old = NOW - 90 * DAY_MS
    rows = [
        [0, old, old, NAT, NAT, NAT, False],  # stale: untouched 90 days, sibling moved since
        [0, old, old, old, NOW - DAY_MS, NOW - DAY_MS, True],  # the sibling that moved
        [0, NOW - 10 * DAY_MS, NOW - 10 * DAY_MS, NAT, NAT, NAT, False],  # too fresh
        [1, old, old, NAT, NAT, NAT, False],  # alone: nobody moved since, not stale
    ]
    assert list(stale_children(kids(rows), NOW)) == [True, False, False, False]


def test_a_dormant_child_is_old_idle_and_outwaited_by_started_children():
    old = NOW - 200 * DAY_MS
    rows = [
        # started children waited 1 day each
        *[[0, old, old, old + DAY_MS, old + 2 * DAY_MS, old + 2 * DAY_MS, True] for _ in range(8)],
        [0, old, old, NAT, NAT, NAT, False],  # idle 200 days, siblings moved since: suspect
        [0, NOW - DAY_MS // 2, NOW - DAY_MS // 2, NAT, NAT, NAT, False],  # idle half a day
    ]
    chance = dormant_chance(kids(rows), NOW)
    # pi = 1 of the 9 children older than 120 days never started; S(200 days) = 0 -> 1
    assert chance[8] == 1.0
    assert chance[9] == 0.0  # fresher than most waits: work to do
    assert (chance[:8] == 0).all()  # started children are not dormant


def test_statuses_of_many_items_agree_with_status_of_one():
    today = pd.Timestamp("2026-06-01")
    target = pd.Series(pd.to_datetime(["2026-06-30", "2026-06-30", "2026-06-30", None,
                                       "2026-05-01", "2026-06-30"]))  # fmt: skip
    p50 = np.array([10.0, 10.0, 40.0, 5.0, 1.0, np.nan])
    p85 = np.array([20.0, 40.0, 50.0, 9.0, 2.0, np.nan])
    scope = np.array([3, 3, 3, 3, 3, 0])
    got = statuses(target, pd.Series([today] * 6), p50, p85, scope)
    want = [
        status_of(
            False,
            t,
            today + pd.Timedelta(days=a) if np.isfinite(a) else pd.NaT,
            today + pd.Timedelta(days=b) if np.isfinite(b) else pd.NaT,
            today,
            int(s),
        )
        for t, a, b, s in zip(target, p50, p85, scope, strict=True)
    ]
    assert list(got) == want == ["on track", "at risk", "off track", "no target", "off track",
                                 "no scope"]  # fmt: skip
