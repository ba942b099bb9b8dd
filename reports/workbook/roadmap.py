"""Roadmap: one row per roadmap item with target, forecast, progress, scope against baseline,
coloured status, reason codes, what changed since last week, and a weekly Gantt band."""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from . import cells as C
from .context import ReportContext
from .figures import Figures
from .layout import print_setup, title_block
from .tables import Col, Placed, add_data_bar, write_table

WEEKS_BACK = 4
WEEKS_AHEAD = 18
HEADER_ROW = 4
GANTT_WIDTH = 3.2

PLAN = PatternFill("solid", fgColor="BDD7EE")  # planned, forecast finishes before it
ON_PLAN = PatternFill("solid", fgColor=C.BLUE)  # forecast inside the plan
LATE = PatternFill("solid", fgColor="E06666")  # forecast (or delivery) after the target
OPEN_ENDED = PatternFill("solid", fgColor="8EA9DB")  # no target: forecast only
DONE = PatternFill("solid", fgColor="A9D08E")
TODAY_HEADER = PatternFill("solid", fgColor="C55A11")
TODAY_EDGE = Side(style="thin", color="C55A11")

COLUMNS = [
    Col("Key", "key", url="url", bold=True),
    Col("Title", "title", width=36),
    Col("Kind", "kind_label", width=10),
    Col("Team", "team"),
    Col("Status", "status", "status"),
    Col("Target", "target_day", "date"),
    Col("Forecast p50", "p50_day", "date"),
    Col("Forecast p85", "p85_day", "date"),
    Col("Slip p85 vs target (days)", "slip_days", "delta", width=10),
    Col("% complete", "pct", "pct", width=10),
    Col("Scope (items)", "scope", "int", width=9),
    Col("Scope vs baseline", "scope_vs_baseline", "delta", width=10),
    Col("Reasons", "reasons_text", width=34),
    Col("Change since last week", "summary", width=44),
    Col("p85 moved (days)", "p85_slip_days", "delta", width=9),
    Col("Scope change (items)", "scope_delta", "delta", width=9),
    Col("Status last week", "status_before", "status", width=11),
    Col("Linked in the other tool", "cross_text", width=40),
]


def _weeks(ctx: ReportContext) -> list[pd.Timestamp]:
    first = ctx.monday - pd.Timedelta(days=7 * WEEKS_BACK)
    return [first + pd.Timedelta(days=7 * i) for i in range(WEEKS_BACK + WEEKS_AHEAD)]


def _week_header(monday: pd.Timestamp, current: pd.Timestamp) -> str:
    label = f"{monday:%d %b}"
    return f"▼{label}" if monday == current else label


def write_roadmap(ws: Worksheet, ctx: ReportContext, figs: Figures) -> Placed:
    """Lay out the Roadmap sheet; returns the table's placement."""
    title_block(
        ws,
        ctx,
        "Roadmap",
        "epics, versions and Trello roadmap cards: open ones and those done in the last "
        f"{ctx.weeks} weeks",
    )
    rm = figs.roadmap.sort_values(
        ["team", "status_rank", "target_day", "key"], na_position="last", kind="stable"
    ).reset_index(drop=True)
    rm["reasons_text"] = rm["reasons"].fillna("").astype(str).str.replace(",", ", ")
    rm["cross_text"] = cross_texts(rm, ctx)
    weeks = _weeks(ctx)
    gantt_fields = [f"gantt_{w:%Y%m%d}" for w in weeks]
    marks = _gantt_marks(rm, weeks)
    for field, values in zip(gantt_fields, marks["text"], strict=True):
        rm[field] = values
    columns = list(COLUMNS) + [
        Col(_week_header(w, ctx.monday), f, "code", width=GANTT_WIDTH)
        for w, f in zip(weeks, gantt_fields, strict=True)
    ]
    placed = write_table(ws, HEADER_ROW, 1, "Roadmap", columns, rm, band_until=gantt_fields[0])
    if not placed.empty:
        add_data_bar(ws, placed.column_range("pct"))
        _paint_gantt(ws, placed, gantt_fields, marks["fill"], weeks, ctx)
    _legend(ws, placed.col(gantt_fields[0]))
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    print_setup(ws, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    return placed


FILLS: tuple[PatternFill | None, ...] = (None, PLAN, ON_PLAN, LATE, OPEN_ENDED, DONE)


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")


def _gantt_marks(rm: pd.DataFrame, weeks: list[pd.Timestamp]) -> dict[str, list]:
    """Per week column: the marker text (list) and fill code (array) of every row.

    Fill codes index :data:`FILLS`. A row's plan runs from its start (first child committed,
    else creation) to its target; its forecast from the start to its done day or p85.
    """
    start = _days(rm["started_day"].fillna(rm["created_day"]))
    target, done = _days(rm["target_day"]), _days(rm["done_day"])
    end = np.where(np.isnat(done), _days(rm["p85_day"]), done)
    has_start, has_target = ~np.isnat(start), ~np.isnat(target)
    is_done, has_end = ~np.isnat(done), ~np.isnat(end)
    open_ended = ~has_end & ~is_done
    texts: list[list[str | None]] = []
    codes: list[np.ndarray] = []
    last_week = weeks[-1]
    for w in weeks:
        w0 = w.to_datetime64().astype("datetime64[ns]")
        w1 = w0 + np.timedelta64(6, "D")
        started = has_start & (start <= w1)
        in_plan = started & has_target & (target >= w0)
        in_fc = started & ((has_end & (end >= w0)) | open_ended)
        code = np.zeros(len(rm), dtype=np.int8)
        code[in_plan & ~in_fc] = 1
        code[in_plan & in_fc] = np.where(is_done, 5, 2)[in_plan & in_fc]
        late = in_fc & ~in_plan
        code[late] = np.select([has_target, is_done], [3, 5], 4)[late]
        mark = np.full(len(rm), None, dtype=object)
        if w == last_week:
            beyond = (has_end & (end > w1)) | (has_target & (target > w1)) | open_ended
            mark[(code > 0) & beyond] = "→"
        mark[has_target & (target >= w0) & (target <= w1)] = "◆"
        mark[is_done & (done >= w0) & (done <= w1)] = "✓"
        texts.append(list(mark))
        codes.append(code)
    return {"text": texts, "fill": codes}


def _paint_gantt(
    ws: Worksheet,
    placed: Placed,
    fields: list[str],
    fills: list[np.ndarray],
    weeks: list[pd.Timestamp],
    ctx: ReportContext,
) -> None:
    centre = Alignment(horizontal="center")
    mark_font = Font(name=C.FONT, size=10, bold=True, color=C.NAVY)
    white_mark = Font(name=C.FONT, size=10, bold=True, color=C.WHITE)
    edge = Border(left=TODAY_EDGE, right=TODAY_EDGE)
    for field, codes, week in zip(fields, fills, weeks, strict=True):
        col = placed.col(field)
        today = week == ctx.monday
        header = ws.cell(row=placed.header_row, column=col)
        header.alignment = Alignment(text_rotation=90, horizontal="center", vertical="bottom")
        header.font = Font(name=C.FONT, size=9, bold=True, color=C.WHITE)
        if today:
            header.fill = TODAY_HEADER
        rows = range(len(codes)) if today else np.flatnonzero(codes)
        for i in rows:
            cell = ws.cell(row=placed.first_row + int(i), column=col)
            code = int(codes[i])
            if code:
                cell.fill = FILLS[code]
            if cell.value is not None:
                cell.alignment = centre
                cell.font = white_mark if code in (2, 3) else mark_font
            if today:
                cell.border = edge
    ws.row_dimensions[placed.header_row].height = 48


def _legend(ws: Worksheet, col: int) -> None:
    """Row 3 above the Gantt columns: what each fill and mark means."""
    items = [
        (ON_PLAN, "on plan"),
        (PLAN, "slack"),
        (LATE, "late"),
        (DONE, "✓ done"),
        (None, "◆ target"),
    ]
    row = HEADER_ROW - 1
    for i, (fill, label) in enumerate(items):
        swatch = ws.cell(row=row, column=col + 4 * i)
        if fill is not None:
            swatch.fill = fill
        C.put_text(ws, row, col + 4 * i + 1, label, C.NOTE_FONT)
    label = C.put_text(ws, row, col - 1, "Gantt, weeks from Monday:", C.NOTE_FONT)
    label.alignment = Alignment(horizontal="right")


def cross_texts(rm: pd.DataFrame, ctx: ReportContext) -> list[str | None]:
    """Per roadmap row: its links to (or from) items of another tool, each with that item's
    state and the forecast of the roadmap item it is or belongs to."""
    links = ctx.results.cross_links
    texts: dict[tuple[str, str], list[str]] = {}
    for r in links.to_dict("records"):
        state = f"{r['other_stage']}, {r['other_status']}"
        if isinstance(r["roadmap_key"], str) and r["roadmap_key"] != r["other_key"]:
            state += f"; in {r['roadmap_key']}"
        if isinstance(r["roadmap_status"], str):
            state += f" {r['roadmap_status']}"
        p85 = r["p85"]
        if not C.is_missing(p85):
            state += f", p85 {ctx.local_days(pd.Series([p85])).iloc[0]:%Y-%m-%d}"
        text = f"{r['direction']} {r['other_key']} ({state})"
        texts.setdefault((str(r["source"]), str(r["key"])), []).append(text)
    return [
        "\n".join(texts[(str(s), str(k))]) if (str(s), str(k)) in texts else None
        for s, k in zip(rm["source"], rm["key"], strict=True)
    ]
