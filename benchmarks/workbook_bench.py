"""Benchmark of the Monday workbook on synthetic data (not a timed test).

Run: ``python -m benchmarks.workbook_bench [--items 100000] [--transitions 1000000]``.
Builds the metrics bench's synthetic organisation (100,000 items, ~1,000,000 transitions),
computes every metric and "last week" (the same engine a week earlier) as the weekly report does,
so the "what changed" paths run, then lays out and writes the eight-sheet workbook atomically.
Prints the time of each phase, the workbook's size and cell count, peak RSS and the load
average. Target: the workbook written in <= 30 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.metrics_bench import AS_OF, WORKFLOW, peak_rss_mb, synthetic
from pulse import clock
from pulse.reports.freshness import facts_frame
from pulse.reports.metrics.pipeline import MetricsConfig, weekly
from pulse.reports.workbook import tables
from pulse.reports.workbook.context import ReportContext
from pulse.reports.workbook.weekly import build_workbook, report_path, report_week, save_atomically
from pulse.settings import Settings

TZ = "Europe/Berlin"
TARGET_SECONDS = 30.0


def main(argv: list[str] | None = None) -> int:
    """Generate data, compute metrics, write the workbook, print figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None, help="keep the workbook here")
    parser.add_argument(
        "--max-rows",
        type=int,
        default=tables.MAX_LIST_ROWS,
        help="rows listed per long item list (the workbook's default cap)",
    )
    args = parser.parse_args(argv)
    tables.MAX_LIST_ROWS = args.max_rows

    inputs = synthetic(args.items, args.transitions)
    config = MetricsConfig(
        workflows=WORKFLOW,
        tz=TZ,
        sync_intervals={"jira": pd.Timedelta(hours=1), "trello": pd.Timedelta(hours=1)},
    )
    t0 = time.perf_counter()
    results = weekly(inputs, config, AS_OF)
    metrics_s = time.perf_counter() - t0

    settings = Settings.model_validate({"report": {"timezone": TZ, "weeks": 12}})
    kinds = {"jira": "jira", "trello": "trello"}
    ctx = ReportContext(
        settings=settings,
        results=results,
        inputs=inputs,
        config=config,
        as_of=AS_OF,
        week=report_week(AS_OF, TZ),
        generated_at=clock.now().replace(tzinfo=None),
        sources=facts_frame(results.freshness, kinds, []),
    )
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.out or Path(tmp)
        target = report_path(out_dir, ctx.week)
        t1, c1 = time.perf_counter(), time.process_time()
        wb, headline = build_workbook(ctx)
        layout_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        save_atomically(wb, target)
        save_s = time.perf_counter() - t2
        cpu_s = time.process_time() - c1
        size_mb = target.stat().st_size / 1e6
    cells = sum(len(ws._cells) for ws in wb.worksheets)
    rows = {ws.title: ws.max_row for ws in wb.worksheets}
    write_s = layout_s + save_s
    load1, load5, load15 = os.getloadavg()
    print(f"synthetic data: {len(inputs.items):,} items, {len(inputs.transitions):,} transitions")
    print(f"metrics (weekly: all + last week): {metrics_s:6.2f} s")
    print(f"workbook layout:              {layout_s:6.2f} s  ({cells:,} cells)")
    print(f"workbook save (atomic):       {save_s:6.2f} s  ({size_mb:.1f} MB)")
    print(
        f"workbook written in {write_s:.2f} s wall, {cpu_s:.2f} s CPU "
        f"(target <= {TARGET_SECONDS:.0f} s); end to end with metrics {metrics_s + write_s:.2f} s"
    )
    print("rows per sheet: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(f"peak RSS: {peak_rss_mb():.0f} MiB; load average {load1:.2f} {load5:.2f} {load15:.2f}")
    print(f"headline: {headline}")
    return 0 if write_s <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
