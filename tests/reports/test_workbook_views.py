"""Issue 18: the views flow-analytics users expect, re-read from the saved workbook.

A real store (the Jira emulator with its planted risks, and Trello cards that attach Jira
issues) is synced over HTTP, the weekly workbook written and read back with openpyxl: chart
types and the cells their series refer to, table contents, and hand-checkable facts (histogram
bars sum to the delivered count, a planted item ageing in progress sits above its column's p85,
the drill-down names who has the work and what blocks it). `pulse show` resolves the same
cross-tool links. The forecast replay's frame is hand-built for the track record and "since".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from pydantic import SecretStr

from pulse import clock
from pulse.connectors.runner import sync_source
from pulse.emulators.jira.org import RISKS
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.reports.metrics.late_work import assignees_at, late_work
from pulse.reports.metrics.off_track import off_track_counts, off_track_since
from pulse.reports.metrics.track_record import empty_forecast_history, track_summary
from pulse.reports.metrics.trends import weekly_trends
from pulse.reports.queries.forecast import forecast
from pulse.reports.queries.show import show
from pulse.reports.workbook.weekly import (
    build_context,
    build_workbook,
    save_atomically,
    write_weekly,
)
from pulse.settings import Settings, TrelloSource
from pulse.store import open_store
from tests.connectors.jira_world import jira_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("workbook_views")]


@dataclass
class Org:
    """A synced store, its settings, one weekly workbook, and the planted Jira keys."""

    store_url: str
    settings: Settings
    path: Path
    week: date
    planted: dict[str, list[str]]
    now: datetime


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    root = tmp_path_factory.mktemp("views")
    url = f"sqlite:///{root / 'pulse.db'}"
    store = open_store(url)
    with jira_world("cloud", seed=11, issues=350, projects=3, plant=RISKS) as world:
        planted = {k: list(v) for k, v in world.emu.truth.planted.items()}
        assert sync_source(world.source, store).ok
        emu = TrelloEmulator(TrelloSpec(seed=7, boards=3, cards=250, now=world.emu.spec.now))
        with emu.serve() as server:
            trello = TrelloSource.model_validate(
                {
                    "name": "design-trello",
                    "kind": "trello",
                    "key": SecretStr(emu.key),
                    "token": SecretStr(emu.token),
                    "boards": [b.name for b in emu.truth.boards.values()],
                    "roadmap_boards": ["Design Roadmap"],
                    "url": server.url,
                    "timeout": "10s",
                    "max_retry_time": "60s",
                }
            )
            assert sync_source(trello, store).ok
        sources = [world.source, trello]
    settings = Settings.model_validate(
        {
            "store": {"url": url},
            "sources": [s.model_dump() for s in sources],
            "report": {"timezone": "Europe/Berlin", "out_dir": str(root / "out")},
        }
    )
    now = clock.now()
    report = write_weekly(settings, store, as_of=now, out_dir=root / "out")
    store.dispose()
    yield Org(url, settings, report.path, report.week, planted, now)


def _table(ws: Any, name: str) -> pd.DataFrame:
    rows = [[c.value for c in row] for row in ws[ws.tables[name].ref]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def _cells(wb: Any, ref: str) -> list[Any]:
    """The values a chart reference such as 'Cycle time'!$AD$6:$AD$74 points at."""
    sheet, cells = ref.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    cells = cells.replace("$", "")
    if ":" not in cells:
        return [ws[cells].value]
    return [c.value for row in ws[cells] for c in row]


def _refs(series: Any) -> tuple[str | None, str]:
    """(x or category reference, y reference) of a chart series."""
    if series.xVal is not None:
        x = series.xVal.numRef.f if series.xVal.numRef is not None else series.xVal.strRef.f
        return x, series.yVal.numRef.f
    cat = series.cat
    x = None
    if cat is not None:
        x = cat.numRef.f if cat.numRef is not None else cat.strRef.f
    return x, series.val.numRef.f


def _title(chart: Any) -> str:
    return "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))


def test_every_new_chart_is_native_and_of_its_kind(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    cycle = [type(c).__name__ for c in wb["Cycle time"]._charts]
    trends = [type(c).__name__ for c in wb["Trends"]._charts]
    assert cycle.count("ScatterChart") >= 5 and cycle.count("BarChart") >= 4
    assert trends[0] == "LineChart" and "BarChart" in trends
    effort = [c for c in wb["Trends"]._charts if type(c).__name__ == "BarChart"]
    assert all(c.grouping == "stacked" and c.overlap == 100 for c in effort)
    for ws in (wb["Cycle time"], wb["Trends"]):
        for table in ws.tables.values():
            assert table.autoFilter is not None and table.autoFilter.ref == table.ref


def test_scatter_plots_each_delivered_item_with_the_team_percentiles(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    pct = _table(wb["Flow"], "CycleTime").set_index("Team")
    scatters = [c for c in wb["Cycle time"]._charts if type(c).__name__ == "ScatterChart"]
    checked = 0
    for chart in scatters:
        title = _title(chart)
        if "cycle time of each delivered item" not in title:
            continue
        team = title.split(":", 1)[0]
        x, y = _refs(chart.series[0])
        days, cycle = _cells(wb, str(x)), _cells(wb, y)
        assert len(days) == len(cycle) == int(pct.loc[team].iloc[0])  # items done, window
        assert all(isinstance(d, datetime) for d in days)
        assert all(isinstance(v, int) and v >= 0 for v in cycle)
        lines = {s.tx.v.split(" ")[0]: _cells(wb, _refs(s)[1]) for s in chart.series[1:]}
        for q in ("p50", "p85", "p95"):
            assert lines[q] == [pytest.approx(pct.loc[team, f"{q} (days)"])] * 2
        checked += 1
    assert checked >= 5


def test_histogram_bars_sum_to_the_teams_delivered_count(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    pct = _table(wb["Flow"], "CycleTime").set_index("Team")
    bars = [c for c in wb["Cycle time"]._charts if type(c).__name__ == "BarChart"]
    assert len(bars) >= 4
    for chart in bars:
        team = _title(chart).split(":", 1)[0]
        labels, counts = (_cells(wb, r) for r in _refs(chart.series[0]))
        assert sum(counts) == int(pct.loc[team].iloc[0])
        # bins start at 0 days, one day wide or as wide as 20 bins need (bin_width)
        width = 1 if labels[0] == "0" else int(str(labels[0]).split("–")[1]) + 1
        assert labels[0] == ("0" if width == 1 else f"0–{width - 1}") and len(labels) <= 20
        assert labels[-1] == (
            f"{(len(labels) - 1) * width}"
            if width == 1
            else f"{(len(labels) - 1) * width}–{len(labels) * width - 1}"
        )


def test_a_planted_ageing_item_is_above_its_columns_p85(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    ageing = _table(wb["Cycle time"], "AgeingByColumn")
    exits = _table(wb["Cycle time"], "ColumnExits")
    # scope_growth plants five stories In Progress since 45 days before the world's end
    base = org.planted["scope_growth"][1:6]
    rows = ageing[ageing["Key"].isin(base)]
    assert len(rows) == 5
    assert (rows["Column"] == "In Progress").all() and (rows["Age (days)"] >= 44).all()
    assert (rows["Age (days)"] > rows["Column p85 (days)"]).all()
    assert (rows["Older than column p85"] == "⚠").all()
    jira = exits[(exits["Workflow"] == "jira-cloud") & (exits["Column"] == "In Progress")]
    assert float(jira["p85 age leaving (days)"].iloc[0]) == rows["Column p85 (days)"].iloc[0]
    # the list holds exactly the items above their column's p85
    assert (ageing["Age (days)"] > ageing["Column p85 (days)"]).all()
    chart = next(
        c for c in wb["Cycle time"]._charts if _title(c).startswith("Ageing by column — jira-cloud")
    )
    x, y = _refs(chart.series[0])
    points = list(zip(_cells(wb, str(x)), _cells(wb, y), strict=True))
    assert len(points) == len(set(points)), "items of one column and age are one point"
    assert {(1, int(a)) for a in rows["Age (days)"]} <= set(points)
    p85 = _cells(wb, _refs(chart.series[2])[1])
    assert p85 == [rows["Column p85 (days)"].iloc[0]]


def test_throughput_charts_plot_complete_weeks_only(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    monday = datetime.combine(org.week, datetime.min.time())
    for sheet in ("Flow", "Velocity"):
        lines = [c for c in wb[sheet]._charts if type(c).__name__ == "LineChart"]
        assert lines, sheet
        for chart in lines:
            weeks = _cells(wb, str(_refs(chart.series[0])[0]))
            assert weeks and max(weeks) < monday, f"{sheet}: the week in progress is plotted"


def test_trends_table_and_chart_agree_week_by_week(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    trends = _table(wb["Trends"], "Trends")
    monday = datetime.combine(org.week, datetime.min.time())
    assert len(trends) == 12
    assert list(trends["Week (Monday)"]) == sorted(trends["Week (Monday)"])
    assert max(trends["Week (Monday)"]) == monday - pd.Timedelta(days=7)
    chart = wb["Trends"]._charts[0]
    assert [s.tx.strRef.f for s in chart.series] and len(chart.series) == 4
    delivered = _cells(wb, _refs(chart.series[1])[1])
    assert delivered == [float(v) for v in trends["Items delivered"]]
    # last week's delivered items are the Summary's KPI
    summary = wb["Summary"]
    kpi = next(r for r in summary.iter_rows(values_only=True) if r[0] == "Items delivered")
    assert trends["Items delivered"].iloc[-1] == kpi[1]
    # the replay's off-track count per Monday, plotted as the chart's first series
    off = trends["Roadmap items off track"]
    assert off.notna().all() and (off >= 0).all() and off.sum() > 0
    assert _cells(wb, _refs(chart.series[0])[1]) == [float(v) for v in off]


def test_effort_shares_add_up_and_match_throughput(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    effort = _table(wb["Trends"], "Effort")
    trends = _table(wb["Trends"], "Trends").set_index("Week (Monday)")
    per_week = effort.groupby("Week (Monday)")["Items delivered"].sum()
    assert (per_week == trends["Items delivered"].reindex(per_week.index)).all()
    shares = effort.groupby(["Team", "Week (Monday)"])["Share of the team's week"].sum()
    items = effort.groupby(["Team", "Week (Monday)"])["Items delivered"].sum()
    assert all(abs(s - 1) < 1e-9 for s in shares[items > 0])
    assert set(effort["Kind"]) == {"roadmap work", "bugs", "other"}


def test_late_work_drill_down_names_assignees_blockers_and_aligns_rows(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    ws = wb["Risks"]
    late = _table(ws, "LateWork")
    risks = _table(ws, "Risks")
    late_keys = set(risks.loc[risks["Status"].isin(["off track", "at risk"]), "Key"])
    assert set(late["Roadmap item"]) <= late_keys and len(late) > 10
    blocked_epic, first_child, *_rest, blocker = org.planted["blocked_epic"]
    row = late[late["Child"] == first_child]
    assert blocked_epic in late_keys
    assert row["Blocked by"].iloc[0] == blocker and row["Flagged now"].iloc[0] == "⚠"
    names = late["Assignee"].dropna()
    assert len(names) > 5
    assert all(re.fullmatch(r"[A-ZÀ-Ž][\w'-]+( [\w'-]+)+", n) for n in names), "display names"
    for name in ("Risks", "LateWork", "ItemRisks"):
        ref = ws.tables[name].ref
        for cells in ws[ref][1:]:
            assert all(c.alignment.vertical == "top" for c in cells), f"{name} row not aligned"


def test_items_held_open_by_untouched_children_are_counted_and_listed_apart(org: Org) -> None:
    """METRICS §5: an item held open only by untouched children is hygiene, not late work — the
    Summary counts it apart and the Risks sheet lists it with those children."""
    wb = openpyxl.load_workbook(org.path)
    ws = wb["Risks"]
    risks = _table(ws, "Risks").set_index("Key")
    held = _table(ws, "HeldOpen")
    expected = {k for k, e in risks["Evidence"].items() if "held open only by" in str(e)}
    assert expected, "the emulator organisation has items held open by untouched children"
    assert set(held["Roadmap item"]) == expected
    for rec in held.to_dict("records"):
        row = risks.loc[rec["Roadmap item"]]
        assert "STALE_SCOPE" in row["Reasons"] and "FORECAST_LATE" not in row["Reasons"]
        assert rec["Untouched children"] == len(rec["Which"].split(", "))
        assert all(k in row["Evidence"] for k in rec["Which"].split(", ")[:3])
    summary = [c.value for row in wb["Summary"].iter_rows() for c in row if c.value]
    count = len(expected)
    assert any(
        isinstance(v, str) and v.startswith(f"{count} of them {'is' if count == 1 else 'are'} held")
        for v in summary
    )
    late = int((held["Status"] == "off track").sum())
    headline = wb["Summary"]["A3"].value
    assert (f"off track ({late} of them held open only by" in headline) == (late > 0), headline
    assert ("held open only by" in headline) == (late > 0), headline


def test_roadmap_sheet_resolves_links_to_the_other_tool(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    roadmap = _table(wb["Roadmap"], "Roadmap")
    linked = roadmap["Linked in the other tool"].dropna()
    assert len(linked) >= 1
    assert all(
        re.search(r"(links to|linked from) \S+ \((in progress|done|not started)", t) for t in linked
    )


def _store_and_doc(org: Org, key: str) -> dict[str, Any]:
    store = open_store(org.store_url)
    try:
        return show(store, org.settings, key, org.now).to_json()
    finally:
        store.dispose()


def test_show_resolves_a_cards_jira_issue_and_the_reverse(org: Org) -> None:
    store = open_store(org.store_url)
    with store.engine.connect() as conn:
        card, issue = conn.exec_driver_sql(
            "SELECT i.key, l.other_key FROM links l JOIN items i "
            "ON i.source_id = l.source_id AND i.item_id = l.item_id "
            "JOIN items j ON j.key = l.other_key AND j.source_id <> l.source_id "
            "WHERE l.link_type = 'jira' AND j.parent_key IS NOT NULL "
            "ORDER BY i.key LIMIT 1"
        ).one()
    store.dispose()
    doc = _store_and_doc(org, card)
    link = next(x for x in doc["links"] if x["key"] == issue)
    assert link["stage"] != "unknown to Pulse" and link["status"]
    cross = next(c for c in doc["cross_links"] if c["key"] == issue)
    assert cross["direction"] == "links to" and cross["source"] == "jira-cloud"
    other = _store_and_doc(org, issue)
    assert cross["stage"] == other["stage"] and cross["status"] == other["status"]
    back = next(c for c in other["cross_links"] if c["key"] == card)
    assert back["direction"] == "linked from" and back["source"] == "design-trello"
    # its forecast is its epic's, as `pulse risk` and `pulse forecast` give it
    assert cross["roadmap_key"] == other["epic"]
    store = open_store(org.store_url)
    try:
        fc = forecast(store, org.settings, other["epic"], org.now).to_json()
    finally:
        store.dispose()
    assert cross["p85"] == (fc["forecast"] or {}).get("p85")


def test_show_of_a_late_epic_lists_the_drill_down(org: Org) -> None:
    wb = openpyxl.load_workbook(org.path)
    late = _table(wb["Risks"], "LateWork")
    epic = org.planted["overdue_epic"][0]
    doc = _store_and_doc(org, epic)
    assert doc["late_work"]["status"] == "off track"
    shown = [c["key"] for c in doc["late_work"]["children"]]
    assert shown == list(late.loc[late["Roadmap item"] == epic, "Child"])
    assert len(shown) == 3  # three of its six children are still open


def test_hand_built_replay_fills_track_record_trends_and_since(org: Org, tmp_path: Path) -> None:
    store = open_store(org.store_url)
    ctx = build_context(org.settings, store, pd.Timestamp(org.now))
    store.dispose()
    r = ctx.results
    epic = org.planted["overdue_epic"][0]
    team = str(r.snapshot.set_index("key").loc[epic, "team"])
    mondays = [pd.Timestamp(org.week, tz=ctx.tz) - pd.Timedelta(weeks=n) for n in (3, 2, 1)]
    rows = [
        (mondays[0], "on track", True, True),
        (mondays[1], "off track", False, True),
        (mondays[2], "off track", None, False),
    ]
    history = pd.concat(
        [
            empty_forecast_history(),
            pd.DataFrame(
                {
                    "as_of": [m.tz_convert("UTC") for m, *_ in rows],
                    "source": "jira-cloud",
                    "key": epic,
                    "kind": "epic",
                    "team": team,
                    "status": [s for _, s, *_ in rows],
                    "p50_held": pd.array([p for *_, p, _ in rows], dtype="boolean"),
                    "p85_held": pd.array([q for *_, q in rows], dtype="boolean"),
                }
            ),
        ],
        ignore_index=True,
    )
    inputs = ctx.inputs
    results = replace(
        r,
        forecast_history=history,
        track_record=track_summary(history),
        late_work=late_work(
            r.snapshot,
            r.roadmap_scope,
            r.column_dates,
            inputs.links,
            r.blocked,
            assignees_at(r.column_dates, inputs.changes, inputs.assignees, inputs.people),
            off_track_since(history),
        ),
        trends=weekly_trends(
            r.column_dates.today,
            ctx.tz,
            r.throughput_weekly,
            r.sprint_report.rows,
            r.roadmap_scope,
            off_track_counts(history),
        ),
    )
    wb, _ = build_workbook(replace(ctx, results=results))
    path = tmp_path / "replayed.xlsx"
    save_atomically(wb, path)
    book = openpyxl.load_workbook(path)
    record = _table(book["Trends"], "TrackRecord")
    record = record[record["Kind"] == "all"].set_index("Team")
    assert record.loc[team, "p85 held"] == pytest.approx(2 / 3)
    assert record.loc[team, "p85 forecasts with an outcome"] == 3
    assert record.loc[team, "p50 held"] == 0.5
    summary = [r for r in book["Summary"].iter_rows(values_only=True) if r[0] == team]
    assert any("p85 held 67% of 3" in str(r[1]) for r in summary)
    trends = _table(book["Trends"], "Trends").set_index("Week (Monday)")
    off = trends["Roadmap items off track"]
    assert off.loc[mondays[1].tz_localize(None).to_pydatetime()] == 1
    assert off.loc[mondays[0].tz_localize(None).to_pydatetime()] == 0
    late = _table(book["Risks"], "LateWork")
    since = late.loc[late["Roadmap item"] == epic, "Off track since"]
    assert len(since) and (since == mondays[1].tz_localize(None).to_pydatetime()).all()
