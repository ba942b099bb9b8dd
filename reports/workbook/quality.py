"""Data quality: unmapped statuses, unestimated items in sprints, orphans, roadmap items without
a target, and items deleted or moved at the source since the last report."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .context import ReportContext
from .layout import note, print_setup, section, title_block
from .tables import Col, capped, write_table

HEADER_ROW = 5

CHECKS: dict[str, tuple[str, str]] = {
    "unmapped_status": (
        "Unmapped status",
        "a status or list that maps to no workflow column: its moves are ignored",
    ),
    "unestimated_in_sprint": (
        "Unestimated in a sprint",
        "open item in an active or future sprint without an estimate",
    ),
    "no_epic": ("Orphan (no epic)", "open item without an epic or roadmap parent"),
    "roadmap_no_target": (
        "Roadmap item without target",
        "open epic, version or roadmap card without a due or release date",
    ),
    "deleted_at_source": (
        "Gone from the source",
        "item deleted in Jira or Trello since the last report, or hidden from the user Pulse "
        "reads with (Jira answers alike for both)",
    ),
    "moved_at_source": (
        "Moved at the source",
        "item moved to another project since the last report (its key changed)",
    ),
}

SUMMARY_COLUMNS = [
    Col("Check", "label", bold=True, width=26),
    Col("Findings", "count", "int", width=9),
    Col("What it means", "meaning", width=72),
]

DETAIL_COLUMNS = [
    Col("Check", "label", width=24),
    Col("Source", "source", width=14),
    Col("Key", "key", url="url", bold=True),
    Col("Detail", "detail", width=80),
]


def write_quality(ws: Worksheet, ctx: ReportContext) -> None:
    """Lay out the Data quality sheet: counts per check on the left, every finding right."""
    since_text = "in the 7 days before the report"
    title_block(
        ws,
        ctx,
        "Data quality",
        f"what the numbers may be missing; deletions and moves {since_text}",
    )
    findings = _findings(ctx)
    counts = findings["check"].value_counts()
    summary = pd.DataFrame(
        [
            {"label": label, "count": int(counts.get(check, 0)), "meaning": meaning}
            for check, (label, meaning) in CHECKS.items()
        ]
    )
    section(ws, HEADER_ROW - 1, 1, "Checks", len(SUMMARY_COLUMNS))
    left = write_table(ws, HEADER_ROW, 1, "QualityChecks", SUMMARY_COLUMNS, summary, band=False)
    col = left.last_col + 2
    ws.column_dimensions[get_column_letter(col - 1)].width = 3
    section(ws, HEADER_ROW - 1, col, f"Findings ({len(findings):,})", len(DETAIL_COLUMNS))
    shown, hidden = capped(findings)
    placed = write_table(
        ws, HEADER_ROW, col, "QualityFindings", DETAIL_COLUMNS, shown, empty="No findings."
    )
    if hidden:
        note(ws, placed.last_row + 1, col, f"…and {hidden:,} more findings not listed.")
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    print_setup(ws, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")


def _findings(ctx: ReportContext) -> pd.DataFrame:
    quality = ctx.results.quality
    frames = [quality]
    if len(ctx.moved):
        frames.append(ctx.moved)
    findings = pd.concat([f for f in frames if len(f)] or [quality], ignore_index=True)
    order = {check: i for i, check in enumerate(CHECKS)}
    findings = findings.assign(
        _o=findings["check"].map(order).fillna(len(order)),
        label=findings["check"].map(lambda c: CHECKS.get(str(c), (str(c), ""))[0]),
    )
    findings = findings.sort_values(["_o", "source", "key"], kind="stable").drop(columns="_o")
    findings = findings.reset_index(drop=True)
    keyed = findings["item_id"].notna()
    urls: list[str | None] = [None] * len(findings)
    if keyed.any():
        sub = findings[keyed.to_numpy(dtype=bool)]
        for i, url in zip(sub.index, ctx.urls_for(sub), strict=True):
            urls[i] = url
    findings["url"] = urls
    return findings
