"""The ordered calculator pipeline: every metric for one as_of, writers stay elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pandas as pd

from . import frames as F
from .backtest import History, track_record
from .baselines import history_baselines
from .blocked import blocked_time
from .calibration import forecast_calibration
from .cfd import cumulative_flow
from .column_dates import column_dates
from .flow import cycle_data, cycle_time_percentiles, estimates_at_as_of
from .forecast import ForecastConfig
from .health import HealthConfig, snapshot_rows
from .item_forecast import roadmap_forecasts
from .kanban import board_throughput
from .quality import data_quality, freshness, quality_summary
from .roadmap import ROADMAP_TYPES, roadmap_scope
from .snapshots import diff_snapshots
from .sprints import Statistic, sprint_report, velocity
from .throughput import throughput
from .timelines import delivered_items, roadmap_timeline
from .timeutil import as_utc
from .wip import ageing_wip
from .workflow import WorkflowsLike


@dataclass(frozen=True)
class MetricsInputs:
    """Every input frame (see :mod:`reports.metrics.frames`); optional ones may be None."""

    items: pd.DataFrame
    transitions: pd.DataFrame
    changes: pd.DataFrame
    sprints: pd.DataFrame
    item_sprints: pd.DataFrame
    boards: pd.DataFrame
    versions: pd.DataFrame
    item_versions: pd.DataFrame
    links: pd.DataFrame
    sync_runs: pd.DataFrame | None = None
    baselines: pd.DataFrame | None = None
    previous_snapshot: pd.DataFrame | None = None
    past_snapshots: pd.DataFrame | None = None


@dataclass(frozen=True)
class MetricsConfig:
    """Report settings: zone, workflows, forecast and health rules."""

    workflows: WorkflowsLike
    tz: str = "UTC"
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    sync_intervals: Mapping[str, timedelta] = field(default_factory=dict)
    roadmap_types: tuple[str, ...] = ROADMAP_TYPES
    estimation: Mapping[str, Statistic] | None = None
    deleted_since: pd.Timestamp | None = None


Step = Callable[[MetricsInputs, MetricsConfig, dict[str, Any]], Any]


def _steps() -> list[tuple[str, Step]]:
    """Calculators in dependency order: (result name, function of inputs, config, results)."""
    return [
        (
            "column_dates",
            lambda i, c, r: column_dates(i.items, i.transitions, c.workflows, r["as_of"], c.tz),
        ),
        ("estimates", lambda i, c, r: estimates_at_as_of(r["column_dates"], i.changes)),
        ("cycle_data", lambda i, c, r: cycle_data(r["column_dates"])),
        ("percentiles", lambda i, c, r: cycle_time_percentiles(r["column_dates"], by="team")),
        (
            "throughput_weekly",
            lambda i, c, r: throughput(
                r["column_dates"],
                "week",
                by="team",
                points=r["estimates"],
                exclude_types=c.roadmap_types,
            ),
        ),
        (
            "throughput_daily",
            lambda i, c, r: throughput(
                r["column_dates"],
                "day",
                by="team",
                exclude_types=c.roadmap_types,
                start=r["column_dates"].today - pd.Timedelta(days=7 * c.forecast.weeks),
            ),
        ),
        (
            "cfd",
            lambda i, c, r: {
                k: cumulative_flow(r["column_dates"], k) for k in r["column_dates"].workflows
            },
        ),
        ("ageing_wip", lambda i, c, r: ageing_wip(r["column_dates"])),
        ("blocked", lambda i, c, r: blocked_time(r["column_dates"], i.changes)),
        (
            "sprint_report",
            lambda i, c, r: sprint_report(
                r["column_dates"], i.changes, i.sprints, i.item_sprints, i.boards, c.estimation
            ),
        ),
        ("velocity", lambda i, c, r: velocity(r["sprint_report"].rows)),
        (
            "kanban_throughput",
            lambda i, c, r: board_throughput(
                r["column_dates"], i.boards, i.sprints, points=r["estimates"]
            ),
        ),
        (
            "roadmap_scope",
            lambda i, c, r: roadmap_scope(
                r["column_dates"],
                i.changes,
                i.versions,
                i.item_versions,
                c.roadmap_types,
                period=c.forecast.period,
                estimates=r["estimates"],
            ),
        ),
        (
            "track_record",
            lambda i, c, r: track_record(
                History(
                    i.items,
                    i.transitions,
                    i.changes,
                    i.versions,
                    i.item_versions,
                    c.workflows,
                    c.tz,
                    c.roadmap_types,
                ),
                r["as_of"],
                replace(c.forecast, trials=min(c.forecast.trials, c.forecast.track_trials)),
                weeks=c.forecast.track_weeks,
            ),
        ),
        (
            "forecasts",
            lambda i, c, r: roadmap_forecasts(
                r["roadmap_scope"],
                r["column_dates"],
                c.forecast,
                roadmap_types=c.roadmap_types,
                correction=r["track_record"].correction,
            ),
        ),
        (
            "baselines",
            lambda i, c, r: history_baselines(
                r["roadmap_scope"], r["column_dates"], i.changes, i.item_versions, c.roadmap_types
            ),
        ),
        (
            "snapshot",
            lambda i, c, r: snapshot_rows(
                r["roadmap_scope"],
                r["forecasts"],
                r["column_dates"],
                r["baselines"],
                r["blocked"],
                i.links,
                r["ageing_wip"],
                c.health,
            ),
        ),
        (
            "snapshot_diff",
            lambda i, c, r: (
                diff_snapshots(i.previous_snapshot, r["snapshot"], c.tz)
                if i.previous_snapshot is not None
                else None
            ),
        ),
        (
            "calibration",
            lambda i, c, r: (
                forecast_calibration(i.past_snapshots, r["roadmap_scope"].roadmap, r["as_of"], c.tz)
                if i.past_snapshots is not None
                else None
            ),
        ),
        (
            "roadmap_timeline",
            lambda i, c, r: roadmap_timeline(r["roadmap_scope"], r["forecasts"], r["column_dates"]),
        ),
        (
            "delivered",
            lambda i, c, r: delivered_items(
                r["column_dates"],
                i.changes,
                i.sprints,
                i.item_sprints,
                i.versions,
                i.item_versions,
            ),
        ),
        (
            "freshness",
            lambda i, c, r: (
                freshness(i.sync_runs, c.sync_intervals, r["as_of"])
                if i.sync_runs is not None
                else None
            ),
        ),
        (
            "quality",
            lambda i, c, r: data_quality(
                r["column_dates"],
                i.changes,
                i.sprints,
                i.item_sprints,
                r["roadmap_scope"],
                i.items,
                c.deleted_since,
                c.roadmap_types,
            ),
        ),
        ("quality_summary", lambda i, c, r: quality_summary(r["quality"])),
    ]


STEP_NAMES: tuple[str, ...] = tuple(name for name, _ in _steps())


def validate_inputs(inputs: MetricsInputs) -> None:
    """Validate every input frame against its contract."""
    F.validate_items(inputs.items)
    F.validate_transitions(inputs.transitions)
    F.validate_changes(inputs.changes)
    F.validate_sprints(inputs.sprints)
    F.validate_item_sprints(inputs.item_sprints)
    F.validate_boards(inputs.boards)
    F.validate_versions(inputs.versions)
    F.validate_item_versions(inputs.item_versions)
    F.validate_links(inputs.links)


def compute_all(
    inputs: MetricsInputs,
    config: MetricsConfig,
    as_of: pd.Timestamp,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Run every calculator for ``as_of``; optional ``timings`` collects seconds per step."""
    import time

    validate_inputs(inputs)
    results: dict[str, Any] = {"as_of": as_utc(as_of)}
    for name, step in _steps():
        t0 = time.perf_counter()
        results[name] = step(inputs, config, results)
        if timings is not None:
            timings[name] = time.perf_counter() - t0
    return results
