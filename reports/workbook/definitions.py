"""Definitions: how each number is computed, and the configuration used (never its secrets)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pulse.settings import JiraSource, Settings, TrelloSource
from pulse.store.sql import public_url

from .context import ReportContext
from .layout import print_setup, section, title_block
from .tables import Col, write_table

HEADER_ROW = 5

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Workflow columns",
        "Each source maps its statuses (Jira) or lists (Trello) onto ordered columns. A "
        "column's date is the first time an item entered it; a backwards move clears the later "
        "dates, and skipped columns take the next later date. Days are calendar days in the "
        "report time zone.",
    ),
    ("Committed", "The column where cycle time starts (default: the first after the backlog)."),
    ("Done / completed", "The done column's date is set. Jira's resolution is not consulted."),
    ("Cycle time", "Done date − committed date, in whole calendar days (same day = 0)."),
    ("Lead time", "Done date − created date, in whole calendar days."),
    (
        "Percentiles (p50, p85, p95)",
        "Linear interpolation over completed items' cycle times (pandas' default). p85: 85% of "
        "items finished within this many days.",
    ),
    (
        "Throughput",
        "Items completed per ISO week (Monday–Sunday, labelled by the Monday); empty weeks count "
        "as 0. Sub-tasks, epics and roadmap cards are not counted. Points = their estimates.",
    ),
    (
        "Last week / week before",
        "The Summary compares the last complete week before the report's Monday with the week "
        "before it. Cycle-time trends compare the N weeks before the report week with the N "
        "weeks before last week.",
    ),
    (
        "Cumulative flow (CFD)",
        "Per day, the number of items whose date for each column is on or before that day.",
    ),
    (
        "Work in progress / ageing",
        "Items at or after the committed column and before done; age = today − committed day. "
        "Flagged when older than the team's p85 cycle time.",
    ),
    (
        "Blocked time",
        "Calendar days an item was flagged (Jira Flagged / impediment; Trello blocked label) "
        "while between committed and done.",
    ),
    (
        "Cycle-time scatterplot and histogram",
        "Each item done in the window, by done day and cycle time, with the team's p50/p85/p95 "
        "as dashed lines (the Flow sheet's numbers); the histogram counts the same items per "
        "cycle-time bin (one day wide, wider when there would be more than 20 bins).",
    ),
    (
        "Ageing by column",
        "Each item in progress by its column and age (today − committed day), against the "
        "p50/p85/p95 of the age at which items done in the window left that column (the day "
        "they entered the next column − their committed day). Above the column's p85: already "
        "slower than 85% of the items that passed that column.",
    ),
    (
        "Late work (drill-down)",
        "For each roadmap item at risk or off track: its open children with status, column, "
        "age, assignee (name at as-of), the open items blocking them, and since when the item "
        "has been off track (the first Monday of the current run in the forecast replay).",
    ),
    (
        "Forecast track record",
        "The forecasts replayed at each past Monday of the last 26 weeks: per team, the share "
        "of p50 (p85) dates that held, among those whose outcome is known.",
    ),
    (
        "Trends",
        "Per complete week of the last 12: roadmap items off track that Monday (replay), items "
        "delivered, the mean say/do of the sprints closed that week, and items added to roadmap "
        "items already started (still in scope at as-of).",
    ),
    (
        "Where the effort goes",
        "Items delivered per team and week by kind: bugs (type Bug or Defect, wherever filed), "
        "roadmap work (a child of an epic, version or roadmap card at as-of), other; shares of "
        "the team's week.",
    ),
    (
        "Linked in the other tool",
        "A Trello card that attaches a Jira issue's link, and that issue: the other item's "
        "stage and status, and the forecast of the roadmap item it is or belongs to.",
    ),
    (
        "Sprint: committed",
        "Sum of estimates, as they stood at sprint start, of issues in the sprint at its start "
        "that were not already done (as Jira's sprint report counts them).",
    ),
    (
        "Sprint: added / removed",
        "Issues that entered (left) the sprint after its start and before completion.",
    ),
    (
        "Sprint: completed / not completed",
        "In the sprint at completion and done by then (estimates at completion, added ones "
        "included) / in it and not done (carried over). Completed outside: done before the start.",
    ),
    (
        "Say/do",
        "Completed work that was committed ÷ committed work. Capacity accuracy: all completed ÷ "
        "committed.",
    ),
    (
        "Velocity",
        "Mean completed over a board's last 3 closed sprints; the chart shows the last 7. Boards "
        "without sprints (Kanban, Trello) report weekly throughput instead.",
    ),
    (
        "Forecast p50 / p85",
        "Monte Carlo: each trial (10,000 by default) draws the owning team's weekly throughput "
        "of recent weeks (12 by default) at random; the roadmap item receives its share of it "
        "from history (what it actually got lately), must also finish the children it will "
        "likely gain (the team's past growth) and never finishes while a child nobody works on "
        "stays open. The dates are corrected by the team's track record (forecasts replayed at "
        "the last 26 Mondays) so that p85 holds about 85% of the time. p85 = 85% of trials "
        "finished by that date. The settings used are listed below.",
    ),
    (
        "Roadmap status",
        "done; on track (p85 ≤ target); at risk (p50 ≤ target < p85); off track (target before "
        "p50, or target passed and not done, or no forecast); no target; no scope (no child "
        "items: nothing to forecast). An item held open only by untouched children is rated on "
        "the date it would land if they were closed, and flagged STALE_SCOPE.",
    ),
    (
        "Reason codes",
        "OVERDUE, FORECAST_LATE (p85 after target), SCOPE_GROWTH (> 20% more items than the "
        "baseline), STALLED (no child moved in 14 days), BLOCKED (flagged child or open blocking "
        "link), LATE_DEPENDENCY (a blocker forecast after this target), AGING_WIP, UNESTIMATED, "
        "NO_TARGET, STALE_SCOPE (children never started and untouched for 60 days while "
        "siblings moved). Severity = status rank x 100 + the codes' weights.",
    ),
    (
        "Baseline",
        "An item's scope and target when work on it started (its first child reached the "
        "committed column) or when its target was set, whichever is later, read from the "
        "history. Scope vs baseline = items now − items then.",
    ),
    (
        "Change since last week",
        "Compared with the same calculation as of one week earlier, over the same history: "
        "date slips (p85 moved), target moves, scope deltas, status changes, new and cleared "
        "risks. Stored reports are never read back, so a past week's report is always the same.",
    ),
    (
        "Gantt band",
        "Weekly cells from the item's start (first child committed, else creation) to its "
        "target (plan) and to its p85 forecast or done date; red where the forecast or delivery "
        "runs past the target.",
    ),
    (
        "Time to market",
        "Item created → release date of the first released version it shipped in.",
    ),
    (
        "Data freshness",
        "Last successful sync per source; stale when older than twice the source's sync "
        "interval, or when the latest sync failed.",
    ),
)

DEFINITION_COLUMNS = [
    Col("Term", "term", bold=True, width=28),
    Col("How it is computed", "text", "wrap", width=100),
]
CONFIG_COLUMNS = [
    Col("Setting", "setting", bold=True, width=34),
    Col("Value", "value", "wrap", width=70),
]


def config_rows(settings: Settings, ctx: ReportContext | None = None) -> list[dict[str, Any]]:
    """The configuration as (setting, value) rows — secrets, users and credentials left out."""
    rows: list[dict[str, Any]] = [
        {"setting": "report.timezone", "value": settings.report.timezone},
        {"setting": "report.weeks", "value": str(settings.report.weeks)},
        {"setting": "report.out_dir", "value": settings.report.out_dir},
        {"setting": "store.url", "value": public_url(settings.store.url)},
        {"setting": "schedule.timezone", "value": settings.schedule.timezone},
        {"setting": "schedule.sync_every", "value": settings.schedule.sync_every},
        {"setting": "schedule.weekly_report", "value": settings.schedule.weekly_report},
    ]
    for source in settings.sources:
        p = f"source {source.name}"
        rows.append({"setting": f"{p}: kind", "value": source.kind})
        rows.append({"setting": f"{p}: url", "value": public_url(source.url)})
        if isinstance(source, JiraSource):
            if source.projects:
                rows.append({"setting": f"{p}: projects", "value": ", ".join(source.projects)})
            if source.jql:
                rows.append({"setting": f"{p}: jql", "value": source.jql})
            chosen = {k: v for k, v in source.fields.model_dump().items() if v}
            if chosen:
                text = ", ".join(f"{k}={v}" for k, v in chosen.items())
                rows.append({"setting": f"{p}: field overrides", "value": text})
        elif isinstance(source, TrelloSource):
            rows.append({"setting": f"{p}: boards", "value": ", ".join(source.boards)})
            if source.roadmap_boards:
                rows.append(
                    {"setting": f"{p}: roadmap boards", "value": ", ".join(source.roadmap_boards)}
                )
            rows.append({"setting": f"{p}: blocked label", "value": source.fields.blocked_label})
        if source.team:
            rows.append({"setting": f"{p}: team", "value": source.team})
        if source.teams:
            text = ", ".join(f"{k} → {v}" for k, v in sorted(source.teams.items()))
            rows.append({"setting": f"{p}: teams", "value": text})
        rows.append(
            {"setting": f"{p}: sync every", "value": source.sync_every or "(schedule default)"}
        )
        wf = source.workflow
        if wf.columns:
            cols = " → ".join(c.name for c in wf.columns)
            text = f"{cols} (committed: {wf.committed or 'second'}, done: {wf.done or 'last'})"
        elif isinstance(source, JiraSource):
            text = "by status category: Backlog → In Progress → Done"
        else:
            text = "by list order per board: first = Backlog, done-like names = Done"
        rows.append({"setting": f"{p}: workflow", "value": text})
    if ctx is not None:
        fc, health = ctx.config.forecast, ctx.config.health
        rows += [
            {"setting": "forecast: trials", "value": f"{fc.trials:,}"},
            {"setting": "forecast: throughput sample", "value": f"last {fc.weeks} {fc.period}s"},
            {"setting": "forecast: seed", "value": str(fc.seed)},
            {"setting": "health: scope growth", "value": f"> {health.scope_growth:.0%}"},
            {"setting": "health: stalled after", "value": f"{health.stalled_days} days"},
        ]
    return rows


def write_definitions(ws: Worksheet, ctx: ReportContext) -> None:
    """Lay out the Definitions sheet."""
    title_block(ws, ctx, "Definitions", "how every number in this workbook is computed")
    defs = pd.DataFrame([{"term": t, "text": x} for t, x in DEFINITIONS])
    section(ws, HEADER_ROW - 1, 1, "Metrics", len(DEFINITION_COLUMNS))
    placed = write_table(ws, HEADER_ROW, 1, "Definitions", DEFINITION_COLUMNS, defs, band=False)
    row = placed.last_row + 3
    config = pd.DataFrame(config_rows(ctx.settings, ctx))
    section(ws, row - 1, 1, "Configuration used (secrets are never shown)", len(CONFIG_COLUMNS))
    write_table(ws, row, 1, "Configuration", CONFIG_COLUMNS, config, band=False)
    ws.column_dimensions[get_column_letter(1)].width = 34
    ws.freeze_panes = f"A{HEADER_ROW}"
    print_setup(ws)
