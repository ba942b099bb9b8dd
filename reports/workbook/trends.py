"""Trends: the last complete weeks at a glance — roadmap items off track, throughput, say/do and
scope added as one line chart over a small table — then where the effort goes (delivered items
per team and week by kind, stacked) and each team's forecast track record."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pulse.reports.metrics.effort import KINDS

from . import cells as C
from .charts import col_after, column_chart, column_cm, line_chart
from .context import ReportContext
from .layout import note, print_setup, section, title_block
from .tables import Col, write_block, write_table

TOP = 5
CHART_ROWS = 18
MAX_TEAMS = 8
EFFORT_WIDTH = 11.0
EFFORT_PER_ROW = 3
KIND_COLOURS = ("2F5597", "C00000", "A5A5A5")  # roadmap work, bugs, other
DATA_COL = 40

TREND_COLUMNS = [
    Col("Week (Monday)", "week", "date"),
    Col("Roadmap items off track", "off_track", "int", width=12),
    Col("Items delivered", "throughput", "int", width=11),
    Col("Say/do (sprints closed)", "say_do_pct", "num", width=12),
    Col("Scope added (items)", "scope_added", "int", width=11),
]
RECORD_COLUMNS = [
    Col("Team", "team", bold=True),
    Col("Kind", "kind", width=9),
    Col("p50 held", "p50_rate", "pct", width=9),
    Col("p50 forecasts with an outcome", "p50_scored", "int", width=13),
    Col("p85 held", "p85_rate", "pct", width=9),
    Col("p85 forecasts with an outcome", "p85_scored", "int", width=13),
]
EFFORT_COLUMNS = [
    Col("Team", "team"),
    Col("Week (Monday)", "week", "date"),
    Col("Kind", "kind", width=13),
    Col("Items delivered", "items", "int", width=10),
    Col("Share of the team's week", "share", "pct", width=11),
]


def write_trends(ws: Worksheet, ctx: ReportContext) -> None:
    """Lay out the Trends sheet."""
    title_block(
        ws,
        ctx,
        "Trends",
        "complete weeks only (the week in progress is partial and left out)",
    )
    row, data_end = _trends(ws, ctx, TOP)
    row = _record(ws, ctx, row + 2)
    _effort(ws, ctx, row + 2, data_end + 2)
    ws.freeze_panes = "A4"
    print_setup(ws, area=f"A1:{get_column_letter(DATA_COL - 2)}{ws.max_row}")


def _trends(ws: Worksheet, ctx: ReportContext, row: int) -> tuple[int, int]:
    """The trends table and chart; returns the last row used and the chart data's last row."""
    trends = ctx.results.trends.copy()
    weeks = len(trends)
    section(ws, row - 1, 1, f"Week by week — the last {weeks} complete weeks", 12)
    trends["say_do_pct"] = trends["say_do"] * 100
    placed = write_table(ws, row, 1, "Trends", TREND_COLUMNS, trends)
    note(
        ws,
        placed.last_row + 1,
        1,
        "Off track: roadmap items off track that Monday (forecast replay; blank before the "
        "replay covers it). Say/do: mean over the sprints closed that week, in %. Scope added: "
        "items added to roadmap items already started.",
    )
    rows = [
        [
            w.date(),
            *(None if pd.isna(v) else float(v) for v in vals),
        ]
        for w, *vals in zip(
            trends["week"],
            trends["off_track"],
            trends["throughput"],
            trends["say_do_pct"],
            trends["scope_added"],
            strict=True,
        )
    ]
    headers = ["Week", "Off track", "Delivered", "Say/do %", "Scope added"]
    last = write_block(ws, row, DATA_COL, headers, rows, [C.DATE] + [C.NUM] * 4)
    chart_col = col_after(ws, 1, sum(_widths(ws, placed.last_col)) + 0.6)
    line_chart(
        ws,
        f"{get_column_letter(chart_col)}{row}",
        "Trends: off track, delivered, say/do and scope added per week",
        row,
        DATA_COL,
        last,
        len(headers) - 1,
        "items (say/do: %)",
        width=20.0,
        height=9.0,
    )
    return max(placed.last_row + 2, row + CHART_ROWS), last


def _widths(ws: Worksheet, last_col: int) -> list[float]:
    return [column_cm(ws, c) for c in range(1, last_col + 1)]


def _record(ws: Worksheet, ctx: ReportContext, row: int) -> int:
    record = ctx.results.track_record  # per team and kind, "all" rows included
    section(
        ws,
        row - 1,
        1,
        "Forecast track record — how often p50 and p85 held, last 26 weeks",
        len(RECORD_COLUMNS),
    )
    placed = write_table(
        ws,
        row,
        1,
        "TrackRecord",
        RECORD_COLUMNS,
        record,
        empty="No forecast outcome known yet.",
    )
    note(
        ws,
        placed.last_row + 1,
        1,
        "Replayed at each past Monday: a p85 that held is met about 85% of the time when "
        "forecasts are calibrated.",
    )
    return placed.last_row + 1


def _effort(ws: Worksheet, ctx: ReportContext, row: int, data_row: int) -> None:
    effort = ctx.results.effort
    section(ws, row - 1, 1, "Where the effort goes — share of delivered items by kind", 12)
    totals = effort.groupby("team")["items"].sum().sort_values(ascending=False, kind="stable")
    teams = [str(t) for t in totals.index[:MAX_TEAMS] if totals[t] > 0]
    table_row = row + 1 + (-(-len(teams) // EFFORT_PER_ROW)) * CHART_ROWS
    if not teams:
        note(ws, row, 1, "No item was delivered in these weeks.")
        table_row = row + 2
    write_table(ws, table_row, 1, "Effort", EFFORT_COLUMNS, effort)  # first: sets widths
    for n, team in enumerate(teams):
        mine = effort[effort["team"] == team]
        wide = mine.pivot_table(index="week", columns="kind", values="share", aggfunc="sum")
        kinds = [k for k in KINDS if k in wide.columns]
        wide = wide.reindex(columns=kinds).sort_index()
        rows = [
            [w.date(), *(None if pd.isna(v) else round(float(v) * 100, 1) for v in vals)]
            for w, vals in zip(wide.index, wide.to_numpy(), strict=True)
        ]
        last = write_block(
            ws, data_row, DATA_COL, [f"{team}: week", *kinds], rows, [C.DATE] + [C.NUM] * len(kinds)
        )
        col = 1
        for _ in range(n % EFFORT_PER_ROW):
            col = col_after(ws, col, EFFORT_WIDTH + 0.3)
        chart = column_chart(
            ws,
            f"{get_column_letter(col)}{row + (n // EFFORT_PER_ROW) * CHART_ROWS}",
            f"{team}: delivered items by kind (%)",
            data_row,
            DATA_COL,
            last,
            len(kinds),
            "% of items delivered",
            colours=KIND_COLOURS,
            width=EFFORT_WIDTH,
            height=8.0,
            stacked=True,
        )
        chart.x_axis.number_format = "d mmm"
        chart.y_axis.scaling.max = 100
        data_row = last + 2
