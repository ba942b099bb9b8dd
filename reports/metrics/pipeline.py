"""The one calculator pipeline: every metric for one as_of, in dependency order.

The workbook, the flow export, the stored analysis behind `pulse risk` / `forecast` / `show`
all read what :func:`compute_all` (or :func:`weekly`, which adds "last week") produced; nothing
else calls a calculator. Everything derived from history is computed here from the loaded
frames (baselines, last week's snapshot), never read from stored reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

import pandas as pd

from . import frames as F
from .baselines import history_baselines
from .blocked import blocked_time, flag_intervals
from .cfd import cumulative_flow
from .column_ageing import ageing_by_column, column_exit_ages
from .column_dates import ColumnDates, column_dates
from .cross_links import cross_links
from .cycle_views import cycle_histogram, delivered_cycle_times
from .effort import effort_mix
from .flow import cycle_data, cycle_time_percentiles, estimates_at_as_of
from .forecast import ForecastConfig
from .health import HealthConfig, snapshot_rows
from .item_risks import item_risks
from .item_story import item_stories
from .kanban import board_throughput
from .late_work import assignees_at, late_work
from .off_track import off_track_counts, off_track_since
from .quality import data_quality, freshness, quality_summary
from .roadmap import ROADMAP_TYPES, RoadmapScope, roadmap_scope
from .snapshots import diff_snapshots
from .sprints import SprintReport, Statistic, sprint_report, velocity
from .throughput import throughput, window_start
from .timelines import delivered_items, roadmap_timeline
from .timeutil import as_utc
from .track_record import ForecastRecord, RoadmapForecast, forecast_and_record, track_summary
from .trends import trend_weeks, weekly_trends
from .wip import ageing_wip
from .workflow import WorkflowsLike


@dataclass(frozen=True)
class MetricsInputs:
    """Every input frame (see :mod:`pulse.reports.metrics.frames`); optional ones may be None."""

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
    assignees: pd.DataFrame | None = None  # source, item_id, person_id: current assignee
    people: pd.DataFrame | None = None  # source, person_id, name


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


_WEEK = pd.Timedelta(days=7)
Step = Callable[[MetricsInputs, MetricsConfig, dict[str, Any]], Any]


def _closed_by(rows: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """Sprint report rows of the sprints closed by ``cut`` (velocity as it stood then)."""
    closed = (rows["state_at"] == "closed") & (rows["completed_at"] <= cut)
    return rows[closed.to_numpy(dtype=bool)]


def _steps() -> list[tuple[str, tuple[str, ...], Step]]:
    """Calculators in dependency order: (result name, results it needs, function)."""
    return [
        (
            "column_dates",
            (),
            lambda i, c, r: column_dates(i.items, i.transitions, c.workflows, r["as_of"], c.tz),
        ),
        (
            "window_start",
            ("column_dates",),
            lambda i, c, r: window_start(
                r["column_dates"].today, c.forecast.weeks, c.forecast.period
            ),
        ),
        (
            "estimates",
            ("column_dates",),
            lambda i, c, r: estimates_at_as_of(r["column_dates"], i.changes),
        ),
        ("cycle_data", ("column_dates",), lambda i, c, r: cycle_data(r["column_dates"])),
        (
            "percentiles",
            ("column_dates", "window_start"),
            lambda i, c, r: cycle_time_percentiles(
                r["column_dates"], by="team", since=r["window_start"]
            ),
        ),
        (
            "throughput_weekly",
            ("column_dates", "estimates"),
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
            ("column_dates",),
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
            ("column_dates",),
            lambda i, c, r: {
                k: cumulative_flow(r["column_dates"], k) for k in r["column_dates"].workflows
            },
        ),
        (
            "ageing_wip",
            ("column_dates", "window_start"),
            lambda i, c, r: ageing_wip(
                r["column_dates"], since=r["window_start"], exclude_types=c.roadmap_types
            ),
        ),
        ("blocked", ("column_dates",), lambda i, c, r: blocked_time(r["column_dates"], i.changes)),
        (
            "sprint_report",
            ("column_dates",),
            lambda i, c, r: sprint_report(
                r["column_dates"], i.changes, i.sprints, i.item_sprints, i.boards, c.estimation
            ),
        ),
        ("velocity", ("sprint_report",), lambda i, c, r: velocity(r["sprint_report"].rows)),
        (
            "velocity_week_ago",
            ("sprint_report",),
            lambda i, c, r: velocity(_closed_by(r["sprint_report"].rows, r["as_of"] - _WEEK)),
        ),
        (
            "kanban_throughput",
            ("column_dates", "estimates"),
            lambda i, c, r: board_throughput(
                r["column_dates"], i.boards, i.sprints, points=r["estimates"]
            ),
        ),
        (
            "roadmap_scope",
            ("column_dates", "estimates"),
            lambda i, c, r: roadmap_scope(
                r["column_dates"],
                i.changes,
                i.versions,
                i.item_versions,
                c.roadmap_types,
                estimates=r["estimates"],
            ),
        ),
        (
            "forecast_record",
            ("roadmap_scope", "column_dates"),
            lambda i, c, r: forecast_and_record(
                r["roadmap_scope"],
                r["column_dates"],
                i.changes,
                c.forecast,
                c.roadmap_types,
                previous=r.get("previous_as_of"),
            ),
        ),
        ("forecast_run", ("forecast_record",), lambda i, c, r: r["forecast_record"].live),
        ("forecasts", ("forecast_run",), lambda i, c, r: r["forecast_run"].frame),
        (
            "forecast_history",
            ("forecast_record",),
            lambda i, c, r: r["forecast_record"].record.history,
        ),
        (
            "track_record",
            ("forecast_history",),
            lambda i, c, r: track_summary(r["forecast_history"]),
        ),
        (
            "baselines",
            ("roadmap_scope", "column_dates"),
            lambda i, c, r: history_baselines(
                r["roadmap_scope"], r["column_dates"], i.changes, i.item_versions, c.roadmap_types
            ),
        ),
        (
            "snapshot",
            ("roadmap_scope", "forecasts", "column_dates", "baselines", "blocked", "ageing_wip"),
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
            "item_risks",
            ("column_dates", "roadmap_scope", "estimates", "blocked", "ageing_wip"),
            lambda i, c, r: item_risks(
                r["column_dates"],
                i.changes,
                i.sprints,
                i.item_sprints,
                i.links,
                r["roadmap_scope"],
                r["estimates"],
                r["blocked"],
                r["ageing_wip"],
                c.health,
                c.roadmap_types,
            ),
        ),
        (
            "roadmap_timeline",
            ("roadmap_scope", "forecasts", "column_dates"),
            lambda i, c, r: roadmap_timeline(r["roadmap_scope"], r["forecasts"], r["column_dates"]),
        ),
        (
            "delivered",
            ("column_dates",),
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
            (),
            lambda i, c, r: (
                freshness(i.sync_runs, c.sync_intervals, r["as_of"])
                if i.sync_runs is not None
                else None
            ),
        ),
        (
            "quality",
            ("column_dates", "roadmap_scope"),
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
        ("quality_summary", ("quality",), lambda i, c, r: quality_summary(r["quality"])),
        (
            "item_stories",
            ("column_dates", "estimates"),
            lambda i, c, r: item_stories(
                r["column_dates"],
                i.changes,
                i.sprints,
                i.item_sprints,
                i.item_versions,
                i.versions,
                r["estimates"],
                flag_intervals(r["column_dates"], i.changes),
            ),
        ),
        (
            "late_work",
            ("snapshot", "roadmap_scope", "column_dates", "blocked", "forecast_history"),
            lambda i, c, r: late_work(
                r["snapshot"],
                r["roadmap_scope"],
                r["column_dates"],
                i.links,
                r["blocked"],
                assignees_at(r["column_dates"], i.changes, i.assignees, i.people),
                off_track_since(r["forecast_history"]),
            ),
        ),
        (
            "cross_links",
            ("column_dates", "roadmap_scope", "snapshot"),
            lambda i, c, r: cross_links(
                r["column_dates"], i.links, r["roadmap_scope"], r["snapshot"]
            ),
        ),
        (
            "delivered_cycle",
            ("column_dates", "window_start"),
            lambda i, c, r: delivered_cycle_times(r["column_dates"], r["window_start"]),
        ),
        (
            "cycle_histogram",
            ("delivered_cycle",),
            lambda i, c, r: cycle_histogram(r["delivered_cycle"]),
        ),
        (
            "column_exits",
            ("column_dates", "window_start"),
            lambda i, c, r: column_exit_ages(r["column_dates"], r["window_start"]),
        ),
        (
            "ageing_by_column",
            ("column_dates", "ageing_wip", "column_exits"),
            lambda i, c, r: ageing_by_column(r["column_dates"], r["ageing_wip"], r["column_exits"]),
        ),
        (
            "trends",
            (
                "column_dates",
                "throughput_weekly",
                "sprint_report",
                "roadmap_scope",
                "forecast_history",
            ),
            lambda i, c, r: weekly_trends(
                r["column_dates"].today,
                c.tz,
                r["throughput_weekly"],
                r["sprint_report"].rows,
                r["roadmap_scope"],
                off_track_counts(r["forecast_history"]),
            ),
        ),
        (
            "effort",
            ("column_dates", "roadmap_scope"),
            lambda i, c, r: effort_mix(
                r["column_dates"],
                r["roadmap_scope"],
                trend_weeks(r["column_dates"].today),
                exclude_types=c.roadmap_types,
            ),
        ),
    ]


@dataclass(frozen=True)
class Results:
    """Every metric for one as_of (see docs/metrics.md); "last week" only from :func:`weekly`."""

    as_of: pd.Timestamp
    column_dates: ColumnDates
    window_start: pd.Timestamp
    estimates: pd.Series
    cycle_data: pd.DataFrame
    percentiles: pd.DataFrame
    throughput_weekly: pd.DataFrame
    throughput_daily: pd.DataFrame
    cfd: dict[str, pd.DataFrame]
    ageing_wip: pd.DataFrame
    blocked: pd.DataFrame
    sprint_report: SprintReport
    velocity: pd.DataFrame
    velocity_week_ago: pd.DataFrame
    kanban_throughput: pd.DataFrame
    roadmap_scope: RoadmapScope
    forecast_record: ForecastRecord
    forecast_run: RoadmapForecast
    forecasts: pd.DataFrame
    forecast_history: pd.DataFrame
    track_record: pd.DataFrame
    baselines: pd.DataFrame
    snapshot: pd.DataFrame
    item_risks: pd.DataFrame
    roadmap_timeline: pd.DataFrame
    delivered: pd.DataFrame
    freshness: pd.DataFrame | None
    quality: pd.DataFrame
    quality_summary: pd.DataFrame
    late_work: pd.DataFrame
    cross_links: pd.DataFrame
    delivered_cycle: pd.DataFrame
    cycle_histogram: pd.DataFrame
    column_exits: pd.DataFrame
    ageing_by_column: pd.DataFrame
    trends: pd.DataFrame
    effort: pd.DataFrame
    previous_as_of: pd.Timestamp | None = None
    previous_snapshot: pd.DataFrame | None = None
    snapshot_diff: pd.DataFrame | None = None
    item_stories: pd.DataFrame | None = None  # only the questions' analysis asks for it


STEP_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _steps())
# Steps only the stored analysis behind `pulse show` reads: the workbook never runs them.
QUESTION_ONLY: tuple[str, ...] = ("item_stories",)


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


def _run(
    inputs: MetricsInputs,
    config: MetricsConfig,
    as_of: pd.Timestamp,
    wanted: Collection[str] | None,
    timings: dict[str, float] | None = None,
    preset: Mapping[str, Any] | None = None,
    validated: bool = False,
) -> dict[str, Any]:
    """Run the steps in ``wanted`` (all when None) and those they need; ``preset`` results are
    given, not run (e.g. last week's forecast, replayed with this week's track record);
    ``validated``: the inputs were already checked (the same frames, one run earlier)."""
    steps = _steps()
    needed = set(STEP_NAMES) - set(QUESTION_ONLY) if wanted is None else set(wanted)
    for name, deps, _ in reversed(steps):
        if name in needed:
            needed.update(deps)
    if not validated:
        validate_inputs(inputs)
    results: dict[str, Any] = {"as_of": as_utc(as_of), **(preset or {})}
    for name, _, step in steps:
        if name not in needed or name in results:
            continue
        t0 = time.perf_counter()
        results[name] = step(inputs, config, results)
        if timings is not None:
            timings[name] = time.perf_counter() - t0
    return results


def compute_all(
    inputs: MetricsInputs,
    config: MetricsConfig,
    as_of: pd.Timestamp,
    timings: dict[str, float] | None = None,
) -> Results:
    """Run every calculator for ``as_of``; optional ``timings`` collects seconds per step."""
    return Results(**_run(inputs, config, as_of, None, timings))


@dataclass(frozen=True)
class RiskResults:
    """What the questions read (`pulse risk`, `forecast`, `show`): the same steps' results as
    :class:`Results`, without the workbook's other metrics."""

    as_of: pd.Timestamp
    column_dates: ColumnDates
    window_start: pd.Timestamp
    percentiles: pd.DataFrame
    roadmap_scope: RoadmapScope
    forecast_run: RoadmapForecast
    forecast_history: pd.DataFrame
    track_record: pd.DataFrame
    baselines: pd.DataFrame
    snapshot: pd.DataFrame
    item_risks: pd.DataFrame
    freshness: pd.DataFrame | None
    item_stories: pd.DataFrame
    late_work: pd.DataFrame
    cross_links: pd.DataFrame


def compute_risks(
    inputs: MetricsInputs,
    config: MetricsConfig,
    as_of: pd.Timestamp,
    timings: dict[str, float] | None = None,
) -> RiskResults:
    """Run the steps :class:`RiskResults` holds, and those they need, for ``as_of``."""
    names = [f.name for f in fields(RiskResults)]
    results = _run(inputs, config, as_of, names[1:], timings)
    return RiskResults(**{name: results[name] for name in names})


def column_dates_at(
    inputs: MetricsInputs, config: MetricsConfig, as_of: pd.Timestamp
) -> ColumnDates:
    """The pipeline's first step alone: each item's column dates (one item's story)."""
    cd: ColumnDates = _run(inputs, config, as_of, ["column_dates"])["column_dates"]
    return cd


def weekly(
    inputs: MetricsInputs,
    config: MetricsConfig,
    as_of: pd.Timestamp,
    timings: dict[str, float] | None = None,
) -> Results:
    """:func:`compute_all` plus "last week": the same engine as of one week earlier, over the
    same history, and what changed since (METRICS §5)."""
    previous_as_of = as_utc(as_of) - _WEEK
    # one replay serves this week's track record and last week's (they share all but a Monday)
    preset = {"previous_as_of": previous_as_of}
    results = Results(**_run(inputs, config, as_of, None, timings, preset))
    t0 = time.perf_counter()
    # last week's snapshot over the same (already validated) history, with the forecast and
    # track record replayed with this week's
    last = {"forecast_record": results.forecast_record.previous}
    previous: pd.DataFrame = _run(
        inputs, config, previous_as_of, ["snapshot"], preset=last, validated=True
    )["snapshot"]
    diff = diff_snapshots(previous, results.snapshot, config.tz)
    if timings is not None:
        timings["last_week"] = time.perf_counter() - t0
    values = {f.name: getattr(results, f.name) for f in fields(results)}
    values.update(previous_as_of=previous_as_of, previous_snapshot=previous, snapshot_diff=diff)
    return Results(**values)
