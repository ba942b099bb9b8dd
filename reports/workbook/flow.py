"""Flow: cycle-time percentiles per team, weekly throughput chart, cumulative flow charts, and
the ageing work-in-progress list (oldest first, flagged when older than the team's p85)."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import cells as C
from .charts import area_chart, col_after, column_cm, line_chart
from .context import ReportContext
from .layout import note, print_setup, section, title_block
from .tables import Col, capped, write_block, write_table

HEADER_ROW = 5
MAX_TEAMS_CHARTED = 10
MAX_CFD_CHARTS = 8
CFD_PER_ROW = 2
CHART_ROWS = 18  # rows an 8-8.5 cm chart covers, with a gap
CFD_WIDTH = 15.5  # cm
THROUGHPUT_WIDTH = 17.0  # cm
CFD_COLOURS = ("D9D9D9", "9DC3E6", "5B9BD5", "F4B183", "FFD966", "2F5597", "70AD47")

PERCENTILE_COLUMNS = [
    Col("Team", "team", bold=True),
    Col("Items done, last weeks", "count", "int", width=11),
    Col("p50 (days)", "p50", "num", width=9),
    Col("p85 (days)", "p85", "num", width=9),
    Col("p95 (days)", "p95", "num", width=9),
]

WIP_COLUMNS = [
    Col("Key", "key", url="url", bold=True),
    Col("Team", "team"),
    Col("Column", "column", width=13),
    Col("Committed", "committed_day", "date"),
    Col("Age (days)", "age_days", "int", width=9),
    Col("Team p85 (days)", "p85_days", "num", width=10),
    Col("Older than p85", "over_p85", "flag", width=9),
    Col("Blocked (days)", "blocked_days", "int", width=9),
    Col("Flagged now", "flagged_now", "flag", width=9),
    Col("Title", "title", width=48),
]


def write_flow(ws: Worksheet, ctx: ReportContext) -> None:
    """Lay out the Flow sheet, top-down: cycle time by team beside the throughput chart, the
    cumulative flow charts, then the ageing work-in-progress list."""
    title_block(
        ws,
        ctx,
        "Flow",
        "cycle time = committed → done, in whole calendar days; percentiles by linear "
        "interpolation; sub-tasks and roadmap items excluded",
    )
    wip = _wip(ctx)
    cfd_count = min(len(ctx.results.cfd), MAX_CFD_CHARTS)
    pct = ctx.results.percentiles.copy()
    top_block = max(len(pct) + 2, CHART_ROWS)
    wip_row = HEADER_ROW + top_block + 2 + (-(-cfd_count // CFD_PER_ROW)) * CHART_ROWS + 2
    over = int(wip["over_p85"].sum()) if len(wip) else 0
    section(
        ws,
        wip_row - 1,
        1,
        f"Ageing work in progress — {len(wip):,} items, {over:,} older than their team's p85",
        len(WIP_COLUMNS),
    )
    shown, hidden = capped(wip)
    wip_table = write_table(
        ws, wip_row, 1, "AgeingWIP", WIP_COLUMNS, shown, empty="No work in progress."
    )
    if hidden:
        note(
            ws,
            wip_table.last_row + 1,
            1,
            f"…and {hidden:,} younger items not listed (`pulse export items` has them all).",
        )
    section(ws, HEADER_ROW - 1, 1, "Cycle time by team", len(PERCENTILE_COLUMNS))
    columns = [
        Col(
            c.header.replace("last weeks", f"last {ctx.weeks} wks"),
            c.field,
            c.kind,
            c.width,
            bold=c.bold,
        )
        for c in PERCENTILE_COLUMNS
    ]
    placed = write_table(ws, HEADER_ROW, 1, "CycleTime", columns, pct)
    chart_col = col_after(ws, 1, _cm_of(ws, placed.last_col) + 0.6)
    right = max(
        wip_table.last_col,
        col_after(ws, chart_col, THROUGHPUT_WIDTH) - 1,
        col_after(ws, 1, CFD_PER_ROW * (CFD_WIDTH + 0.3)) - 1,
    )
    data_col = right + 3
    C.put_text(ws, HEADER_ROW - 1, data_col, "Chart data", C.SECTION_FONT)
    ws.column_dimensions[get_column_letter(data_col)].width = 12
    data_row = _throughput_chart(ws, ctx, chart_col, data_col)
    _cfd_charts(ws, ctx, HEADER_ROW + top_block + 1, data_col, data_row + 2)
    ws.freeze_panes = f"A{HEADER_ROW - 1}"
    print_setup(ws, area=f"A1:{get_column_letter(right)}{wip_table.last_row}")


def _cm_of(ws: Worksheet, last_col: int) -> float:
    """Width in cm of columns 1..last_col."""
    return sum(column_cm(ws, c) for c in range(1, last_col + 1))


def _wip(ctx: ReportContext) -> pd.DataFrame:
    wip = ctx.results.ageing_wip.copy()
    blocked = ctx.results.blocked[["source", "item_id", "blocked_days", "flagged_now"]]
    wip = wip.merge(blocked, on=["source", "item_id"], how="left")
    wip["blocked_days"] = wip["blocked_days"].where(wip["blocked_days"] > 0)  # blank: never
    wip = wip.sort_values(["age_days", "key"], ascending=[False, True], kind="stable")
    wip = wip.reset_index(drop=True)
    wip["url"] = ctx.urls_for(wip)
    return wip


def _throughput_chart(ws: Worksheet, ctx: ReportContext, chart_col: int, data_col: int) -> int:
    weekly = ctx.results.throughput_weekly
    # complete weeks only: the week in progress would plot as a drop
    recent = weekly[(weekly["week"] >= ctx.window_start) & (weekly["week"] < ctx.monday)]
    if len(recent) == 0:
        note(ws, HEADER_ROW, chart_col, "No completed items in the window: no throughput chart.")
        return HEADER_ROW
    totals = recent.groupby("team")["items"].sum().sort_values(ascending=False)
    shown = [str(t) for t in totals.index[:MAX_TEAMS_CHARTED]]
    wide = recent.pivot_table(index="week", columns="team", values="items", aggfunc="sum")
    wide = wide.reindex(columns=shown).sort_index().fillna(0)
    rows = [
        [w.date(), *(int(v) for v in vals)]
        for w, vals in zip(wide.index, wide.to_numpy(), strict=True)
    ]
    last = write_block(
        ws, HEADER_ROW, data_col, ["Week", *shown], rows, [C.DATE] + [C.INT] * len(shown)
    )
    more = f" (top {MAX_TEAMS_CHARTED} teams)" if len(totals) > MAX_TEAMS_CHARTED else ""
    line_chart(
        ws,
        f"{get_column_letter(chart_col)}{HEADER_ROW}",
        f"Throughput: items done per complete week by team{more}",
        HEADER_ROW,
        data_col,
        last,
        len(shown),
        "items",
        width=THROUGHPUT_WIDTH,
        height=8.5,
    )
    return last


def _cfd_charts(ws: Worksheet, ctx: ReportContext, top: int, data_col: int, data_row: int) -> None:
    """One CFD chart per workflow (up to MAX_CFD_CHARTS), CFD_PER_ROW side by side."""
    cfds: dict[str, pd.DataFrame] = ctx.results.cfd
    start = ctx.window_start
    for n, (workflow, frame) in enumerate(sorted(cfds.items())):
        if n >= MAX_CFD_CHARTS:
            row = top + (-(-MAX_CFD_CHARTS // CFD_PER_ROW)) * CHART_ROWS
            note(ws, row - 1, 1, f"{len(cfds) - MAX_CFD_CHARTS} more workflows not charted.")
            break
        recent = frame[frame.index >= start]
        if len(recent) == 0:
            continue
        # stacked bands, done at the bottom: items in each column = reached it - reached the next
        reached = recent.to_numpy(dtype="int64")
        bands = reached.copy()
        bands[:, :-1] = reached[:, :-1] - reached[:, 1:]
        columns = [str(c) for c in recent.columns][::-1]
        rows = [
            [d.date(), *(int(v) for v in vals[::-1])]
            for d, vals in zip(recent.index, bands, strict=True)
        ]
        label = workflow.replace(":*", "").replace(":", " / ")
        last = write_block(
            ws,
            data_row,
            data_col,
            [f"{label}: day", *columns],
            rows,
            [C.DATE] + [C.INT] * len(columns),
        )
        col = 1
        for _ in range(n % CFD_PER_ROW):
            col = col_after(ws, col, CFD_WIDTH + 0.3)
        area_chart(
            ws,
            f"{get_column_letter(col)}{top + (n // CFD_PER_ROW) * CHART_ROWS}",
            f"Cumulative flow — {label}",
            data_row,
            data_col,
            last,
            len(columns),
            "items",
            _cfd_colours(len(columns))[::-1],
            width=CFD_WIDTH,
            height=8.0,
        )
        data_row = last + 2


def _cfd_colours(n: int) -> list[str]:
    """First column (backlog) light grey, last (done) green, work columns in between."""
    if n <= 1:
        return [CFD_COLOURS[-1]]
    middle = list(CFD_COLOURS[1:-1])
    return [CFD_COLOURS[0], *[middle[i % len(middle)] for i in range(n - 2)], CFD_COLOURS[-1]]
