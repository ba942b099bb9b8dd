"""The whole pipeline on a small synthetic dataset (the benchmark's generator)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from pulse.reports.metrics import frames as F
from pulse.reports.metrics.pipeline import (
    QUESTION_ONLY,
    STEP_NAMES,
    MetricsConfig,
    compute_all,
    compute_risks,
    weekly,
)

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "metrics_bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("metrics_bench_for_tests", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_calculator_runs_and_outputs_honour_contracts():
    bench = load_bench()
    inputs = bench.synthetic(1500, 15000, seed=3)
    config = MetricsConfig(workflows=bench.WORKFLOW, tz="Europe/Berlin")
    timings: dict[str, float] = {}
    res = compute_all(inputs, config, bench.AS_OF, timings)
    workbook_steps = [name for name in STEP_NAMES if name not in QUESTION_ONLY]
    assert all(getattr(res, name) is not None for name in workbook_steps if name != "freshness")
    assert list(timings) == workbook_steps  # the questions' own steps never run for the workbook
    assert res.item_stories is None
    stories = compute_risks(inputs, config, bench.AS_OF).item_stories
    assert len(stories) == len(res.column_dates.items)
    F.validate_snapshot(res.snapshot)
    F.validate_baselines(res.baselines)
    assert len(res.snapshot) == len(res.roadmap_scope.roadmap)
    assert res.sprint_report.rows["committed"].ge(0).all()
    assert (res.column_dates.unmapped["status"] == "Blocked (legacy)").any()


def test_past_monday_is_reproducible():
    bench = load_bench()
    inputs = bench.synthetic(800, 8000, seed=5)
    config = MetricsConfig(workflows=bench.WORKFLOW, tz="UTC")
    monday = pd.Timestamp("2026-03-02 08:00", tz="UTC")
    a = compute_all(inputs, config, monday)
    b = compute_all(inputs, config, monday)
    pd.testing.assert_frame_equal(a.snapshot, b.snapshot)
    pd.testing.assert_frame_equal(a.sprint_report.rows, b.sprint_report.rows)


def test_last_week_is_the_same_engine_a_week_earlier():
    """weekly(): "last week" is the snapshot compute_all gives for as_of - 7 days, whatever is
    stored, and the diff compares it with this week's."""
    bench = load_bench()
    inputs = bench.synthetic(800, 8000, seed=5)
    config = MetricsConfig(workflows=bench.WORKFLOW, tz="UTC")
    monday = pd.Timestamp("2026-03-02 08:00", tz="UTC")
    res = weekly(inputs, config, monday)
    earlier = compute_all(inputs, config, monday - pd.Timedelta(days=7))
    assert res.previous_as_of == monday - pd.Timedelta(days=7)
    assert res.previous_snapshot is not None and res.snapshot_diff is not None
    pd.testing.assert_frame_equal(res.previous_snapshot, earlier.snapshot)
    assert len(res.snapshot_diff) >= len(res.snapshot)
