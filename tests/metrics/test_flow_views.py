"""Issue 18's views on hand-worked examples: the cycle-time histogram, ageing by column, the
forecast track record and "since when", trends and where the effort goes."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.reports.metrics.column_ageing import ageing_by_column, column_exit_ages
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.cycle_views import bin_width, cycle_histogram, delivered_cycle_times
from pulse.reports.metrics.off_track import off_track_counts, off_track_since
from pulse.reports.metrics.track_record import empty_forecast_history, track_summary
from pulse.reports.metrics.trends import trend_weeks
from pulse.reports.metrics.wip import ageing_wip

from .factories import WF, item, items, transitions, ts


def _flow_world():
    """Three items done (cycle 2, 4, 9 days) and two in progress, as of 2026-03-20."""
    its = items(
        item("a", "2026-03-01 09:00", "Done"),
        item("b", "2026-03-01 09:00", "Done"),
        item("c", "2026-03-01 09:00", "Done"),
        item("old", "2026-03-01 09:00", "Review"),
        item("new", "2026-03-01 09:00", "In Progress"),
    )
    trs = transitions(
        ("a", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("a", "2026-03-03 10:00", "In Progress", "Review"),  # left In Progress at age 1
        ("a", "2026-03-04 10:00", "Review", "Done"),  # cycle 2
        ("b", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("b", "2026-03-05 10:00", "In Progress", "Review"),  # age 3
        ("b", "2026-03-06 10:00", "Review", "Done"),  # cycle 4
        ("c", "2026-03-02 10:00", "Backlog", "In Progress"),
        ("c", "2026-03-11 10:00", "In Progress", "Done"),  # skips Review: both left at 9
        ("old", "2026-03-08 10:00", "Backlog", "In Progress"),
        ("old", "2026-03-09 10:00", "In Progress", "Review"),  # age 12 in Review on 03-20
        ("new", "2026-03-18 10:00", "Backlog", "In Progress"),  # age 2 in In Progress
    )
    return column_dates(its, trs, WF, ts("2026-03-20 12:00"), "UTC")


def test_histogram_bins_sum_to_the_delivered_count() -> None:
    cd = _flow_world()
    points = delivered_cycle_times(cd, since=pd.Timestamp("2026-03-01"))
    assert sorted(points["cycle_days"]) == [2, 4, 9]
    hist = cycle_histogram(points)
    assert list(hist["bin_start"]) == list(range(10))  # one-day bins, 0 to the longest
    assert hist["items"].sum() == 3
    assert dict(zip(hist["bin_start"], hist["items"], strict=True))[9] == 1


def test_wide_cycle_times_are_grouped_into_wider_bins() -> None:
    assert bin_width(19) == 1
    assert bin_width(20) == 2  # 21 one-day bins would be too many
    points = pd.DataFrame({"team": ["t"] * 3, "cycle_days": [0, 21, 45]})
    hist = cycle_histogram(points)
    assert bin_width(45) == 3
    assert list(hist["label"][:2]) == ["0–2", "3–5"]
    assert hist["items"].sum() == 3 and len(hist) == 16


def test_column_percentiles_are_the_ages_at_which_items_left_it() -> None:
    cd = _flow_world()
    exits = column_exit_ages(cd, since=pd.Timestamp("2026-03-01")).set_index("column")
    # In Progress left at ages 1, 3, 9; Review left at 2, 4, 9 (c skipped it: back-filled)
    assert exits.loc["In Progress", "items"] == 3
    assert exits.loc["In Progress", "p50"] == 3.0
    assert exits.loc["In Progress", "p85"] == pytest.approx(3 + 0.7 * 6)  # 7.2
    assert exits.loc["Review", "p50"] == 4.0
    assert list(exits.index) == ["In Progress", "Review"]  # committed up to before done


def test_an_item_older_than_its_columns_p85_is_flagged() -> None:
    cd = _flow_world()
    since = pd.Timestamp("2026-03-01")
    got = ageing_by_column(cd, ageing_wip(cd, since=since), column_exit_ages(cd, since))
    got = got.set_index("item_id")
    assert got.loc["old", "column"] == "Review" and got.loc["old", "age_days"] == 12
    assert got.loc["old", "column_p85"] == pytest.approx(4 + 0.7 * 5)  # 7.5
    assert bool(got.loc["old", "over_column_p85"])
    assert got.loc["new", "age_days"] == 2 and not bool(got.loc["new", "over_column_p85"])


def _history(rows: list[tuple[str, str, str, str, object, object]]) -> pd.DataFrame:
    """A hand-built replay frame from (monday, key, team, status, p50_held, p85_held)."""
    frame = empty_forecast_history()
    records = pd.DataFrame(
        {
            "as_of": pd.to_datetime([r[0] for r in rows], utc=True),
            "source": "jira",
            "key": [r[1] for r in rows],
            "kind": "epic",
            "team": [r[2] for r in rows],
            "status": [r[3] for r in rows],
            "p50_held": pd.array([r[4] for r in rows], dtype="boolean"),
            "p85_held": pd.array([r[5] for r in rows], dtype="boolean"),
        }
    )
    return pd.concat([frame, records], ignore_index=True)[list(frame.columns)]


HISTORY = [
    ("2026-02-23", "E-1", "web", "on track", True, True),
    ("2026-03-02", "E-1", "web", "off track", False, True),
    ("2026-03-09", "E-1", "web", "at risk", None, True),
    ("2026-03-16", "E-1", "web", "off track", None, False),
    ("2026-02-23", "E-2", "web", "off track", None, None),
    ("2026-03-02", "E-2", "web", "off track", None, None),
    ("2026-03-09", "E-2", "web", "off track", None, None),
    ("2026-03-16", "E-2", "web", "off track", None, None),
    ("2026-03-16", "A-1", "api", "on track", True, None),
]


def test_track_record_counts_only_known_outcomes() -> None:
    summary = track_summary(_history(HISTORY))
    got = summary[summary["kind"] == "all"].set_index("team")
    assert got.loc["web", "p85_scored"] == 4 and got.loc["web", "p85_rate"] == 0.75
    assert got.loc["web", "p50_scored"] == 2 and got.loc["web", "p50_rate"] == 0.5
    assert got.loc["api", "p85_scored"] == 0 and pd.isna(got.loc["api", "p85_rate"])
    assert got.loc["all", "p85_scored"] == 4 and got.loc["all", "forecasts"] == len(HISTORY)


def test_off_track_counts_per_monday() -> None:
    counts = off_track_counts(_history(HISTORY))
    assert list(counts.to_numpy()) == [1, 2, 1, 2]


def test_since_is_the_first_monday_of_the_current_off_track_run() -> None:
    since = off_track_since(_history(HISTORY)).set_index("key")["since"]
    assert set(since.index) == {"E-1", "E-2"}  # A-1 is on track
    assert since["E-1"] == pd.Timestamp("2026-03-16", tz="UTC")  # at risk the week before
    assert since["E-2"] == pd.Timestamp("2026-02-23", tz="UTC")  # off track all along
    assert off_track_since(empty_forecast_history()).empty


def test_trend_weeks_are_the_complete_weeks_before_today() -> None:
    weeks = trend_weeks(pd.Timestamp("2026-03-20"), 3)  # a Friday
    assert [str(w.date()) for w in weeks] == ["2026-02-23", "2026-03-02", "2026-03-09"]
