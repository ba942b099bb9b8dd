"""Cycle time: per team, each delivered item by done day and cycle time (ActionableAgile's
scatterplot) with the team's p50/p85/p95 lines, and the histogram of the same cycle times;
then ageing work in progress by workflow column against what items that passed each column
took, so items about to be late are visible before they are late."""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.chart import Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import cells as C
from .charts import PALETTE, XY, col_after, column_chart, scatter_chart
from .context import ReportContext
from .layout import note, print_setup, section, title_block
from .tables import Col, capped, write_block, write_table

TOP = 5
CHART_ROWS = 19  # rows an 8.5 cm chart covers, with a gap
MAX_TEAMS = 8
MAX_WORKFLOWS = 6
SCATTER_WIDTH = 17.0
HISTOGRAM_WIDTH = 13.0
LINE_COLOURS = {"p50": "70AD47", "p85": "ED7D31", "p95": "C00000"}
DATA_COL = 30  # chart data, right of everything shown
MAX_LISTED = 1_000  # items listed above their column's p85 (the Flow sheet lists every one)

AGEING_COLUMNS = [
    Col("Key", "key", url="url", bold=True),
    Col("Team", "team"),
    Col("Workflow", "workflow_label", width=22),
    Col("Column", "column", width=13),
    Col("Age (days)", "age_days", "int", width=9),
    Col("Column p50 (days)", "column_p50", "num", width=10),
    Col("Column p85 (days)", "column_p85", "num", width=10),
    Col("Column p95 (days)", "column_p95", "num", width=10),
    Col("Older than column p85", "over_column_p85", "flag", width=11),
    Col("Title", "title", width=44),
]
EXIT_COLUMNS = [
    Col("Workflow", "workflow_label", width=22),
    Col("Column", "column", width=13),
    Col("Items that left it", "items", "int", width=10),
    Col("p50 age leaving (days)", "p50", "num", width=11),
    Col("p85 age leaving (days)", "p85", "num", width=11),
    Col("p95 age leaving (days)", "p95", "num", width=11),
]


def _label(workflow: str) -> str:
    return workflow.replace(":*", "").replace(":", " / ")


def write_cycle(ws: Worksheet, ctx: ReportContext) -> None:
    """Lay out the Cycle time sheet: team scatterplots and histograms, then ageing by column.

    The tables below the charts are written first: they set the column widths the charts are
    placed by."""
    title_block(
        ws,
        ctx,
        "Cycle time",
        f"items done in the last {ctx.weeks} weeks, one point each; dashed lines: the team's "
        "p50/p85/p95 (the Flow sheet's numbers)",
    )
    teams = _teams(ctx)
    ageing = _ageing_frame(ctx)
    workflows = _workflows(ageing)
    team_rows = len(teams) * CHART_ROWS if teams else 1
    ageing_row = TOP + 2 + team_rows
    table_row = ageing_row + 2 + (-(-len(workflows) // 2)) * CHART_ROWS
    _ageing_tables(ws, ctx, ageing, table_row)
    data = [TOP]
    _team_charts(ws, ctx, teams, TOP, data)
    _ageing_charts(ws, ctx, ageing, workflows, ageing_row, data)
    ws.freeze_panes = "A4"
    print_setup(ws, area=f"A1:{get_column_letter(DATA_COL - 2)}{ws.max_row}")


def _teams(ctx: ReportContext) -> list[str]:
    """The teams charted: most items delivered first."""
    points = ctx.results.delivered_cycle
    counts = points.groupby("team").size().sort_values(ascending=False, kind="stable")
    return [str(t) for t in counts.index[:MAX_TEAMS]]


def _ageing_frame(ctx: ReportContext) -> pd.DataFrame:
    frame = ctx.results.ageing_by_column.copy()
    frame["workflow_label"] = frame["workflow"].astype(str).map(_label)
    frame["url"] = ctx.urls_for(frame)
    return frame


def _workflows(frame: pd.DataFrame) -> list[str]:
    """The workflows charted: most items in progress first."""
    wip_by = frame.groupby("workflow").size().sort_values(ascending=False, kind="stable")
    return [str(w) for w in wip_by.index[:MAX_WORKFLOWS]]


def _excel_day(day: pd.Timestamp) -> int:
    """A day as Excel's serial number (what a date axis is scaled in)."""
    return int((pd.Timestamp(day) - pd.Timestamp("1899-12-30")).days)


def _team_charts(
    ws: Worksheet, ctx: ReportContext, teams: list[str], row: int, data: list[int]
) -> None:
    points = ctx.results.delivered_cycle
    hist = ctx.results.cycle_histogram
    pct = ctx.results.percentiles.set_index("team")
    section(ws, row, 1, f"Cycle time by team — {len(points):,} items delivered", 12)
    if not teams:
        note(ws, row + 1, 1, "No item was delivered in the window.")
        return
    first = ctx.window_start.date()
    last = (ctx.monday + pd.Timedelta(days=6)).date()
    hist_col = col_after(ws, 1, SCATTER_WIDTH + 0.4)
    for n, team in enumerate(teams):
        top = row + 1 + n * CHART_ROWS
        mine = points[points["team"] == team]
        r0 = data[0]
        end = write_block(
            ws,
            r0,
            DATA_COL,
            [f"{team}: done", "cycle time (days)"],
            [[d.date(), int(c)] for d, c in zip(mine["done_day"], mine["cycle_days"], strict=True)],
            [C.DATE, C.INT],
        )
        levels: list[Any] = [float(pct[q].loc[team]) for q in LINE_COLOURS]
        lines = [[first, *levels], [last, *levels]]
        l0 = end + 2
        l_end = write_block(ws, l0, DATA_COL, ["day", *LINE_COLOURS], lines, [C.DATE] + [C.NUM] * 3)
        series = [
            XY(
                "items",
                Reference(ws, min_col=DATA_COL, min_row=r0 + 1, max_row=end),
                Reference(ws, min_col=DATA_COL + 1, min_row=r0 + 1, max_row=end),
                True,
                PALETTE[0],
            )
        ]
        for j, (q, colour) in enumerate(LINE_COLOURS.items()):
            series.append(
                XY(
                    f"{q} {levels[j]:.1f} days",
                    Reference(ws, min_col=DATA_COL, min_row=l0 + 1, max_row=l_end),
                    Reference(ws, min_col=DATA_COL + 1 + j, min_row=l0 + 1, max_row=l_end),
                    False,
                    colour,
                )
            )
        scatter = scatter_chart(
            ws,
            f"A{top}",
            f"{team}: cycle time of each delivered item ({len(mine)})",
            series,
            "done",
            "cycle time (days)",
            x_format="d mmm",
            width=SCATTER_WIDTH,
        )
        scatter.x_axis.scaling.min = _excel_day(ctx.window_start)
        scatter.x_axis.scaling.max = _excel_day(ctx.monday + pd.Timedelta(days=7))
        scatter.x_axis.majorUnit = 14
        scatter.y_axis.number_format = "0"
        scatter.y_axis.scaling.min = 0
        bins = hist[hist["team"] == team]
        h0 = l_end + 2
        h_end = write_block(
            ws,
            h0,
            DATA_COL,
            [f"{team}: cycle time (days)", "items"],
            [[str(lab), int(k)] for lab, k in zip(bins["label"], bins["items"], strict=True)],
            [None, C.INT],
        )
        chart = column_chart(
            ws,
            f"{get_column_letter(hist_col)}{top}",
            f"{team}: how many items took how long",
            h0,
            DATA_COL,
            h_end,
            1,
            "items",
            width=HISTOGRAM_WIDTH,
            height=8.5,
        )
        chart.gapWidth = 10
        chart.legend = None
        chart.x_axis.title = "cycle time (days)"
        data[0] = h_end + 2
    more = points["team"].nunique() - len(teams)
    if more > 0:
        end = row + 1 + len(teams) * CHART_ROWS
        note(ws, end - 1, 1, f"{more} smaller teams not charted (the Flow sheet lists them).")


def _ageing_charts(
    ws: Worksheet,
    ctx: ReportContext,
    frame: pd.DataFrame,
    shown: list[str],
    row: int,
    data: list[int],
) -> None:
    over = int(frame["over_column_p85"].sum()) if len(frame) else 0
    section(
        ws,
        row,
        1,
        f"Ageing work in progress by column — {len(frame):,} items, {over:,} older than "
        "the p85 of items that left their column",
        12,
    )
    exits = ctx.results.column_exits
    for n, workflow in enumerate(shown):
        top = row + 1 + (n // 2) * CHART_ROWS
        anchor_col = 1 if n % 2 == 0 else col_after(ws, 1, SCATTER_WIDTH + 0.4)
        _ageing_chart(ws, f"{get_column_letter(anchor_col)}{top}", workflow, frame, exits, data)


def _ageing_tables(ws: Worksheet, ctx: ReportContext, frame: pd.DataFrame, table_row: int) -> None:
    ex = ctx.results.column_exits.copy()
    ex["workflow_label"] = ex["workflow"].astype(str).map(_label)
    section(ws, table_row - 1, 1, "Age at which items left each column", len(EXIT_COLUMNS))
    placed = write_table(
        ws, table_row, 1, "ColumnExits", EXIT_COLUMNS, ex, empty="No item passed a work column."
    )
    list_row = placed.last_row + 3
    late = frame[frame["over_column_p85"].to_numpy(dtype=bool)]
    section(
        ws,
        list_row - 1,
        1,
        "Work in progress older than its column's p85, oldest first in each column",
        8,
    )
    listed, hidden = capped(late, MAX_LISTED)
    placed = write_table(
        ws,
        list_row,
        1,
        "AgeingByColumn",
        AGEING_COLUMNS,
        listed,
        empty="No item in progress is older than its column's p85.",
    )
    more = f"…and {hidden:,} more; " if hidden else ""
    note(
        ws,
        placed.last_row + 1,
        1,
        f"{more}the Flow sheet lists every item in progress with its age.",
    )


def _ageing_chart(
    ws: Worksheet,
    anchor: str,
    workflow: str,
    frame: pd.DataFrame,
    exits: pd.DataFrame,
    data: list[int],
) -> None:
    """Items of one workflow by column (x: 1 = first work column) and age, with the column
    percentiles as lines. Items of the same column and age are one point: they would be drawn
    on top of each other (a large organisation has thousands)."""
    cols = exits[exits["workflow"] == workflow].sort_values("position")
    mine = frame[frame["workflow"] == workflow]
    first_pos = int(cols["position"].min()) if len(cols) else int(mine["position"].min())
    points = mine[["position", "age_days"]].drop_duplicates()
    r0 = data[0]
    end = write_block(
        ws,
        r0,
        DATA_COL,
        [f"{_label(workflow)}: column", "age (days)"],
        [
            [int(p) - first_pos + 1, int(a)]
            for p, a in zip(points["position"], points["age_days"], strict=True)
        ],
        [C.INT, C.INT],
    )
    series = [
        XY(
            "items",
            Reference(ws, min_col=DATA_COL, min_row=r0 + 1, max_row=end),
            Reference(ws, min_col=DATA_COL + 1, min_row=r0 + 1, max_row=end),
            True,
            PALETTE[0],
        )
    ]
    names = ", ".join(
        f"{int(p) - first_pos + 1} = {c}"
        for p, c in zip(cols["position"], cols["column"], strict=True)
    )
    if len(cols):
        l0 = end + 2
        rows = [
            [int(p) - first_pos + 1, *(None if pd.isna(v) else float(v) for v in vals)]
            for p, *vals in zip(
                cols["position"], cols["p50"], cols["p85"], cols["p95"], strict=True
            )
        ]
        end = write_block(ws, l0, DATA_COL, ["column", *LINE_COLOURS], rows, [C.INT] + [C.NUM] * 3)
        for j, (q, colour) in enumerate(LINE_COLOURS.items()):
            series.append(
                XY(
                    f"{q} of items that left",
                    Reference(ws, min_col=DATA_COL, min_row=l0 + 1, max_row=end),
                    Reference(ws, min_col=DATA_COL + 1 + j, min_row=l0 + 1, max_row=end),
                    True,
                    colour,
                    marker="dash",
                )
            )
    chart = scatter_chart(
        ws,
        anchor,
        f"Ageing by column — {_label(workflow)} ({len(mine)} items)",
        series,
        f"column: {names}" if names else "column",
        "age (days)",
        width=SCATTER_WIDTH,
    )
    chart.x_axis.majorUnit = 1
    chart.x_axis.scaling.min = 0.5
    chart.x_axis.scaling.max = max(len(cols), 1) + 0.5
    data[0] = end + 2
