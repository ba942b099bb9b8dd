"""Health reason codes (METRICS §5) in report order: one list for the engine, the workbook and
the questions (`pulse risk --reason`), importable without the engine's libraries."""

from __future__ import annotations

REASONS: tuple[str, ...] = (
    "OVERDUE",
    "FORECAST_LATE",
    "SCOPE_GROWTH",
    "STALLED",
    "BLOCKED",
    "LATE_DEPENDENCY",
    "AGING_WIP",
    "UNESTIMATED",
    "NO_TARGET",
    "STALE_SCOPE",
)

__all__ = ["REASONS"]
