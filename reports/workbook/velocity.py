"""Velocity: per team and sprint (committed, added, removed, completed, not completed, say/do)
with a chart per Scrum board, and weekly throughput with a chart for Kanban and Trello boards."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import cells as C
from .charts import col_after, column_chart, line_chart
from .context import ReportContext
from .figures import Figures
from .layout import note, print_setup, section, title_block
from .tables import Col, write_block, write_table

HEADER_ROW = 5
CHART_ROWS = 15  # rows a 7 cm chart covers, with a gap
CHARTS_PER_ROW = 3
CHART_WIDTH = 11.5  # cm

SPRINT_COLUMNS = [
    Col("Team", "team", bold=True),
    Col("Board", "board"),
    Col("Sprint", "name", width=18),
    Col("State", "state_at", width=9),
    Col("Start", "start_day", "date"),
    Col("Planned end", "end_day", "date"),
    Col("Completed on", "completed_day", "date"),
    Col("Measured in", "statistic_label", width=10),
    Col("Committed", "committed", "num", width=11),
    Col("Added", "added", "num"),
    Col("Removed", "removed", "num", width=10),
    Col("Completed", "completed", "num", width=11),
    Col("Not completed", "not_completed", "num", width=10),
    Col("Completed outside", "completed_outside", "num", width=10),
    Col("Say/do", "say_do", "pct", width=9),
    Col("Capacity accuracy", "capacity_accuracy", "pct", width=10),
]

VELOCITY_COLUMNS = [
    Col("Team", "team", bold=True),
    Col("Board", "board"),
    Col("Measured in", "statistic_label", width=10),
    Col("Velocity (last 3 sprints)", "velocity", "num", width=11),
    Col("A week ago", "velocity_before", "num", width=10),
    Col("Change", "change", "num", width=9),
]

KANBAN_COLUMNS = [
    Col("Board", "board", bold=True),
    Col("Team", "team"),
    Col("Week (Monday)", "week", "date"),
    Col("Items done", "items", "int", width=10),
    Col("Points done", "points", "num", width=10),
]

_STAT = {"estimate": "points", "count": "issues"}


def _board_names(ctx: ReportContext) -> dict[tuple[str, str], str]:
    """Board names by (source, board id): two sites may both have a board 1."""
    boards = ctx.inputs.boards
    return {
        (str(s), str(b)): str(n)
        for s, b, n in zip(boards["source"], boards["board_id"], boards["name"], strict=True)
    }


def _named(frame: pd.DataFrame, names: dict[tuple[str, str], str]) -> list[str]:
    """Each row's board name (its id when the board is unknown)."""
    return [
        names.get((str(s), str(b)), str(b))
        for s, b in zip(frame["source"], frame["board_id"], strict=True)
    ]


def write_velocity(ws: Worksheet, ctx: ReportContext, figs: Figures) -> None:
    """Lay out the Velocity sheet, top-down: velocity by board, a chart per Scrum board, every
    sprint, then weekly throughput of Kanban and Trello boards with its chart."""
    title_block(
        ws,
        ctx,
        "Velocity",
        "Scrum boards sprint by sprint, as Jira's sprint report counts them; Kanban and Trello "
        "boards by weekly throughput",
    )
    names = _board_names(ctx)
    sprints = _sprints(ctx, names)
    boards = figs.velocity_now
    charts_rows = -(-len(boards) // CHARTS_PER_ROW) * CHART_ROWS
    # the sprint table goes below the charts; write it first so its widths place the charts
    sprint_row = HEADER_ROW + max(len(boards), 1) + 3 + charts_rows + 1
    section(ws, sprint_row - 1, 1, "Sprints (Scrum boards), newest first", len(SPRINT_COLUMNS))
    table = write_table(
        ws, sprint_row, 1, "Sprints", SPRINT_COLUMNS, sprints, empty="No Scrum sprints."
    )
    vel = _velocity(figs, names)
    section(ws, HEADER_ROW - 1, 1, "Velocity by board", len(SPRINT_COLUMNS))
    vplaced = write_table(
        ws, HEADER_ROW, 1, "Velocity", VELOCITY_COLUMNS, vel, empty="No closed sprints."
    )
    data_col = table.last_col + 3
    C.put_text(ws, HEADER_ROW - 1, data_col, "Chart data", C.SECTION_FONT)
    data_row = _sprint_charts(ws, ctx, figs, names, vplaced.last_row + 2, data_col)
    row = max(table.last_row, sprint_row + 1) + 3
    bottom = _kanban(ws, row, ctx, data_col, data_row + 2)
    ws.freeze_panes = f"A{HEADER_ROW - 1}"
    print_setup(ws, area=f"A1:{get_column_letter(table.last_col)}{bottom}")


def _sprint_charts(
    ws: Worksheet,
    ctx: ReportContext,
    figs: Figures,
    names: dict[tuple[str, str], str],
    top: int,
    data_col: int,
) -> int:
    """A committed-vs-completed chart per Scrum board, CHARTS_PER_ROW side by side."""
    report_rows = ctx.results.sprint_report.rows
    sprint_names = {
        (str(src), str(sid)): str(name)
        for src, sid, name in zip(
            report_rows["source"], report_rows["sprint_id"], report_rows["name"], strict=True
        )
    }
    data_row = HEADER_ROW
    for n, rec in enumerate(figs.velocity_now.to_dict("records")):
        rows = [
            [sprint_names.get((str(rec["source"]), str(s)), str(s)), committed, completed]
            for s, committed, completed in zip(
                rec["chart_sprints"], rec["chart_committed"], rec["chart_completed"], strict=True
            )
        ]
        board = names.get((str(rec["source"]), str(rec["board_id"])), str(rec["board_id"]))
        unit = _STAT.get(str(rec["statistic"]), str(rec["statistic"]))
        last = write_block(
            ws, data_row, data_col, [f"{board}: sprint", "Committed", "Completed"], rows
        )
        col = 1
        for _ in range(n % CHARTS_PER_ROW):
            col = col_after(ws, col, CHART_WIDTH + 0.3)
        anchor = f"{get_column_letter(col)}{top + (n // CHARTS_PER_ROW) * CHART_ROWS}"
        column_chart(
            ws,
            anchor,
            f"{board}: committed vs completed",
            data_row,
            data_col,
            last,
            2,
            unit,
            colours=("A6A6A6", C.BLUE),
            width=CHART_WIDTH,
            height=7.0,
        )
        data_row = last + 2
    return data_row


def _sprints(ctx: ReportContext, names: dict[tuple[str, str], str]) -> pd.DataFrame:
    rows = ctx.results.sprint_report.rows.copy()
    rows["board"] = _named(rows, names)
    rows["start_day"] = ctx.local_days(rows["start"])
    rows["end_day"] = ctx.local_days(rows["end"])
    rows["completed_day"] = ctx.local_days(rows["completed_at"]).where(rows["state_at"] == "closed")
    rows["statistic_label"] = rows["statistic"].map(_STAT).fillna(rows["statistic"])
    rows["team"] = rows["team"].fillna("")
    return rows.sort_values(
        ["team", "board", "start"], ascending=[True, True, False], kind="stable"
    ).reset_index(drop=True)


def _velocity(figs: Figures, names: dict[tuple[str, str], str]) -> pd.DataFrame:
    now = figs.velocity_now[["source", "board_id", "team", "statistic", "velocity"]]
    before = figs.velocity_before[["source", "board_id", "velocity"]].rename(
        columns={"velocity": "velocity_before"}
    )
    out = now.merge(before, on=["source", "board_id"], how="left")
    out["change"] = out["velocity"] - out["velocity_before"]
    out["board"] = _named(out, names)
    out["statistic_label"] = out["statistic"].map(_STAT).fillna(out["statistic"])
    return out.sort_values(["team", "board"], kind="stable").reset_index(drop=True)


def _kanban(ws: Worksheet, row: int, ctx: ReportContext, data_col: int, data_row: int) -> int:
    """Weekly throughput of sprint-less boards and its chart; returns the last row used."""
    weekly = ctx.results.kanban_throughput
    recent = weekly[weekly["week"] >= ctx.window_start].copy()
    recent = recent.sort_values(["board", "week"], ascending=[True, False], kind="stable")
    section(
        ws,
        row,
        1,
        f"Weekly throughput — Kanban and Trello boards, last {ctx.weeks} weeks "
        "(this week so far included)",
        len(KANBAN_COLUMNS),
    )
    placed = write_table(
        ws,
        row + 1,
        1,
        "KanbanThroughput",
        KANBAN_COLUMNS,
        recent.reset_index(drop=True),
        empty="No Kanban or Trello boards.",
    )
    if len(recent) == 0:
        return placed.last_row
    complete = recent[recent["week"] < ctx.monday]  # the week in progress would plot as a drop
    if len(complete) == 0:
        return max(placed.last_row + 1, row + 18)
    wide = complete.pivot_table(index="week", columns="board", values="items", aggfunc="sum")
    wide = wide.sort_index().fillna(0)
    boards = [str(b) for b in wide.columns]
    rows = [
        [w.date(), *(float(v) for v in vals)]
        for w, vals in zip(wide.index, wide.to_numpy(), strict=True)
    ]
    last = write_block(
        ws,
        data_row,
        data_col,
        ["Week", *boards],
        rows,
        [C.DATE] + [C.INT] * len(boards),
    )
    line_chart(
        ws,
        f"{get_column_letter(placed.last_col + 2)}{row + 1}",
        "Items done per complete week — Kanban and Trello boards",
        data_row,
        data_col,
        last,
        len(boards),
        "items",
        width=18,
        height=8,
    )
    note(
        ws,
        placed.last_row + 1,
        1,
        "A board's throughput is its team's: items done per ISO week, Monday to Sunday.",
    )
    return max(placed.last_row + 1, row + 18)
