"""Timelines: each roadmap item's timeline, and every item delivered in the last N weeks."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .context import ReportContext
from .figures import Figures
from .layout import note, print_setup, section, title_block
from .tables import Col, capped, write_table

HEADER_ROW = 5

ROADMAP_COLUMNS = [
    Col("Key", "key", url="url", bold=True),
    Col("Title", "title", width=34),
    Col("Kind", "kind_label", width=10),
    Col("Team", "team"),
    Col("Status", "status", "status"),
    Col("Created", "created_day", "date"),
    Col("Started", "started_day", "date"),
    Col("Target", "target_day", "date"),
    Col("Forecast p50", "p50_day", "date"),
    Col("Forecast p85", "p85_day", "date"),
    Col("Done", "done_day", "date"),
    Col("Slip (days)", "slip_days", "delta"),
    Col("Slip measured at", "slip_basis", width=10),
]

DELIVERED_COLUMNS = [
    Col("Key", "key", url="url", bold=True),
    Col("Title", "title", width=40),
    Col("Type", "type"),
    Col("Team", "team"),
    Col("Epic", "epic", url="epic_url"),
    Col("Sprints", "sprints", width=18),
    Col("Versions", "versions", width=14),
    Col("Created", "created_day", "date"),
    Col("Committed", "committed_day", "date"),
    Col("Done", "done_day", "date"),
    Col("Cycle time (days)", "cycle_days", "int", width=10),
    Col("Lead time (days)", "lead_days", "int", width=10),
    Col("Released", "release_day", "date"),
    Col("Time to market (days)", "time_to_market_days", "int", width=11),
]


def write_timelines(ws: Worksheet, ctx: ReportContext, figs: Figures) -> None:
    """Lay out the Timelines sheet: roadmap timelines on the left, deliveries on the right."""
    title_block(
        ws,
        ctx,
        "Timelines",
        f"roadmap item timelines (left) and items delivered in the last {ctx.weeks} weeks "
        "(right; sub-tasks left out, as in throughput); days are calendar days",
    )
    rm = figs.roadmap.sort_values(
        ["team", "target_day", "key"], na_position="last", kind="stable"
    ).reset_index(drop=True)
    rm["slip_basis"] = [
        "done" if pd.notna(d) else ("p85" if pd.notna(p) else None)
        for d, p in zip(rm["done_day"], rm["p85_day"], strict=True)
    ]
    section(ws, HEADER_ROW - 1, 1, "Roadmap items", len(ROADMAP_COLUMNS))
    left = write_table(ws, HEADER_ROW, 1, "RoadmapTimelines", ROADMAP_COLUMNS, rm)
    delivered = _delivered(ctx)
    col = left.last_col + 2
    ws.column_dimensions[get_column_letter(left.last_col + 1)].width = 3
    section(
        ws,
        HEADER_ROW - 1,
        col,
        f"Delivered since {ctx.window_start:%d %b %Y} ({len(delivered):,} items)",
        len(DELIVERED_COLUMNS),
    )
    shown, hidden = capped(delivered)
    right = write_table(ws, HEADER_ROW, col, "Delivered", DELIVERED_COLUMNS, shown)
    if hidden:
        note(ws, right.last_row + 1, col, f"…and {hidden:,} earlier deliveries not listed.")
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    area = (
        f"A1:{get_column_letter(left.last_col)}{left.last_row},"
        f"{get_column_letter(col)}{HEADER_ROW - 1}:{get_column_letter(right.last_col)}"
        f"{right.last_row}"
    )
    print_setup(ws, title_rows=f"{HEADER_ROW}:{HEADER_ROW}", area=area)


def _delivered(ctx: ReportContext) -> pd.DataFrame:
    done = ctx.results.delivered
    done = done[done["done_day"] >= ctx.window_start]
    items = ctx.inputs.items
    subtasks = {
        (str(s), str(i))
        for s, i, sub in zip(items["source"], items["item_id"], items["is_subtask"], strict=True)
        if sub
    }
    folded = {t.casefold() for t in ctx.config.roadmap_types}
    keep = [
        (str(s), str(i)) not in subtasks and str(t).casefold() not in folded
        for s, i, t in zip(done["source"], done["item_id"], done["type"], strict=True)
    ]
    done = done[pd.Series(keep, index=done.index, dtype=bool)]
    recent = done[done["done_day"] >= ctx.window_start].copy()
    recent = recent.sort_values(["done_day", "key"], ascending=[False, True], kind="stable")
    recent = recent.reset_index(drop=True)
    recent["url"] = ctx.urls_for(recent)
    epics = pd.DataFrame({"source": recent["source"], "key": recent["epic"].fillna("")})
    recent["epic_url"] = ctx.urls_for(epics, by="key")
    return recent
