"""Risks: every open roadmap item with a reason code (or at risk / off track), most severe first,
with its reason codes and the plain-language evidence behind each; the open children of the late
ones; the items held open only by untouched children, apart; then every open work item carrying a
reason of its own. The same rows, numbers and words as `pulse risk`."""

from __future__ import annotations

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from .context import ReportContext
from .figures import Figures
from .layout import note, print_setup, section, title_block
from .tables import Col, Placed, capped, write_table

HEADER_ROW = 4
EVIDENCE_WIDTH = 70
MAX_ITEMS = 1_000  # work items listed; a large organisation has tens of thousands
TOP = Alignment(vertical="top")
WRAP_TOP = Alignment(vertical="top", wrap_text=True)

COLUMNS = [
    Col("#", "rank", "int", width=5),
    Col("Key", "key", url="url", bold=True),
    Col("Title", "title", "wrap", width=32),
    Col("Kind", "kind_label", width=10),
    Col("Source", "source"),
    Col("Team", "team"),
    Col("Status", "status", "status"),
    Col("Severity", "severity", "int", width=9),
    Col("Target", "target_day", "date"),
    Col("Forecast p50", "p50_day", "date"),
    Col("Forecast p85", "p85_day", "date"),
    Col("Forecast p95", "p95_day", "date"),
    Col("Slip (days)", "slip_days", "delta", width=8),
    Col("Scope (items)", "scope", "int", width=9),
    Col("Baseline scope", "baseline_scope", "int", width=9),
    Col("Reasons", "reasons_text", "wrap", width=20),
    Col("Evidence", "evidence", "wrap", width=EVIDENCE_WIDTH),
    Col("New this week", "new_risks_text", "wrap", width=14),
]
LATE_COLUMNS = [
    Col("Roadmap item", "roadmap_key", url="roadmap_url", bold=True),
    Col("Status", "roadmap_status", "status"),
    Col("Off track since", "since_day", "date"),
    Col("Child", "key", url="url", bold=True),
    Col("Title", "title", "wrap", width=32),
    Col("Child status", "status", width=13),
    Col("Column", "column", width=13),
    Col("Age (days)", "age_days", "int", width=9),
    Col("Assignee", "assignee", width=18),
    Col("Blocked by", "blocked_by", width=12),
    Col("Flagged now", "flagged", "flag", width=9),
]
HELD_COLUMNS = [
    Col("Roadmap item", "key", url="url", bold=True),
    Col("Title", "title", "wrap", width=32),
    Col("Team", "team"),
    Col("Status", "status", "status"),
    Col("Target", "target_day", "date"),
    Col("Untouched children", "untouched_count", "int", width=10),
    Col("Which", "untouched", "wrap", width=32),
    Col("p85 if they were closed", "p85_if_closed_day", "date", width=13),
]
ITEM_COLUMNS = [
    Col("#", "rank", "int", width=5),
    Col("Key", "key", url="url", bold=True),
    Col("Title", "title", "wrap", width=32),
    Col("Source", "source"),
    Col("Team", "team"),
    Col("Column", "status"),
    Col("Level", "level", width=9),
    Col("Severity", "severity", "int", width=9),
    Col("Due", "due_day", "date"),
    Col("Belongs to", "parent", "wrap", width=16),
    Col("Reasons", "reasons_text", "wrap", width=20),
    Col("Evidence", "evidence", "wrap", width=EVIDENCE_WIDTH),
]


def write_risks(ws: Worksheet, ctx: ReportContext, figs: Figures) -> None:
    """Lay out the Risks sheet."""
    title_block(
        ws,
        ctx,
        "Risks",
        "open roadmap items with at least one reason code, most severe first (severity = "
        "status rank x 100 + reason weights)",
    )
    risks = figs.risks.copy()
    risks["reasons_text"] = risks["reasons"].fillna("").astype(str).str.replace(",", ", ")
    risks["new_risks_text"] = (
        risks["new_risks"].fillna("").astype(str).str.replace(",", ", ")
        if "new_risks" in risks
        else ""
    )
    placed = write_table(
        ws, HEADER_ROW, 1, "Risks", COLUMNS, risks, empty="No roadmap item is at risk."
    )
    _align_top(ws, placed)
    late, late_hidden = capped(_late_work(ctx), MAX_ITEMS)
    row = placed.last_row + 3
    section(
        ws,
        row - 1,
        1,
        "Late work, drilled down — the open children of each item at risk or off track",
        len(LATE_COLUMNS),
    )
    drill = write_table(
        ws, row, 1, "LateWork", LATE_COLUMNS, late, empty="No roadmap item is late."
    )
    _align_top(ws, drill)
    if late_hidden:
        note(
            ws,
            drill.last_row + 1,
            1,
            f"…and {late_hidden:,} more children of late items (`pulse show KEY` lists them).",
        )
    row = drill.last_row + (4 if late_hidden else 3)
    section(
        ws,
        row - 1,
        1,
        "Held open only by untouched children — hygiene, not late work (close or re-scope them)",
        len(HELD_COLUMNS),
    )
    held = write_table(
        ws,
        row,
        1,
        "HeldOpen",
        HELD_COLUMNS,
        figs.held_open,
        empty="No roadmap item is held open only by untouched children.",
    )
    _align_top(ws, held)
    items, hidden = capped(figs.item_risks, MAX_ITEMS)
    items = items.copy()
    items["reasons_text"] = items["reasons"].astype(str).str.replace(",", ", ")
    row = held.last_row + 3
    section(ws, row - 1, 1, "Work items with a reason of their own, most severe first", 8)
    listed = write_table(
        ws, row, 1, "ItemRisks", ITEM_COLUMNS, items, empty="No work item carries a reason."
    )
    _align_top(ws, listed)
    if hidden:
        note(
            ws,
            listed.last_row + 1,
            1,
            f"…and {hidden:,} less severe work items (`pulse risk --format csv` lists them all).",
        )
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    print_setup(ws, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")


def _late_work(ctx: ReportContext) -> pd.DataFrame:
    """The pipeline's drill-down rows with links and local days."""
    late = ctx.results.late_work.copy()
    late["since_day"] = ctx.local_days(late["since"])
    late["url"] = ctx.urls_for(late)
    late["roadmap_url"] = ctx.roadmap_urls(late)
    return late


def _align_top(ws: Worksheet, placed: Placed) -> None:
    """Top-align every row of a table, so a wrapped title and its key share a line."""
    if placed.empty:
        return
    for row in ws.iter_rows(
        min_row=placed.first_row,
        max_row=placed.last_row,
        min_col=placed.first_col,
        max_col=placed.last_col,
    ):
        for cell in row:
            cell.alignment = WRAP_TOP if cell.alignment.wrap_text else TOP
