"""Pulse metrics engine: pure, typed calculators over pandas frames (see docs/metrics.md).

Start with :func:`column_dates` (the world as known at ``as_of``), then call the calculators of
each section, or run them all with :func:`pipeline.compute_all`.
"""

from __future__ import annotations

from .blocked import blocked_time, flag_intervals
from .calibration import Calibration, forecast_calibration
from .cfd import cumulative_flow
from .column_dates import ColumnDates, column_dates
from .flow import (
    completed_items,
    cycle_data,
    cycle_time_percentiles,
    estimates_at_as_of,
    percentiles,
)
from .forecast import ForecastConfig, forecast_how_many, forecast_when
from .health import HealthConfig, roadmap_health, snapshot_rows, update_baselines
from .kanban import board_throughput
from .pipeline import MetricsConfig, MetricsInputs, compute_all
from .quality import data_quality, freshness, quality_summary
from .roadmap import RoadmapScope, roadmap_forecasts, roadmap_scope
from .snapshots import diff_snapshots
from .sprints import SprintReport, sprint_report, velocity
from .throughput import throughput, throughput_samples
from .timelines import delivered_items, roadmap_timeline, time_to_market
from .wip import ageing_wip, wip_items
from .workflow import Column, Workflow, WorkflowMap

__all__ = [
    "Calibration",
    "Column",
    "ColumnDates",
    "ForecastConfig",
    "HealthConfig",
    "MetricsConfig",
    "MetricsInputs",
    "RoadmapScope",
    "SprintReport",
    "Workflow",
    "WorkflowMap",
    "ageing_wip",
    "blocked_time",
    "board_throughput",
    "column_dates",
    "completed_items",
    "compute_all",
    "cumulative_flow",
    "cycle_data",
    "cycle_time_percentiles",
    "data_quality",
    "delivered_items",
    "diff_snapshots",
    "estimates_at_as_of",
    "flag_intervals",
    "forecast_calibration",
    "forecast_how_many",
    "forecast_when",
    "freshness",
    "percentiles",
    "quality_summary",
    "roadmap_forecasts",
    "roadmap_health",
    "roadmap_scope",
    "roadmap_timeline",
    "snapshot_rows",
    "sprint_report",
    "throughput",
    "throughput_samples",
    "time_to_market",
    "update_baselines",
    "velocity",
    "wip_items",
]
