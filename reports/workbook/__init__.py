"""The Monday workbook: ``write_weekly(settings, store)`` writes ``pulse-weekly-YYYY-MM-DD.xlsx``.

Sheets, in order: Summary, Roadmap, Timelines, Velocity, Flow, Risks, Data quality, Definitions.
The writer only lays out what the metrics engine (:mod:`pulse.reports.metrics`) computed.
"""

from __future__ import annotations

from .weekly import SHEETS, ReportError, ReportFailed, WeeklyReport, write_weekly

__all__ = ["SHEETS", "ReportError", "ReportFailed", "WeeklyReport", "write_weekly"]
