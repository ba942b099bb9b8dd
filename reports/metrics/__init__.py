"""Pulse metrics engine: pure, typed calculators over pandas frames (see docs/metrics.md).

Start with :func:`.column_dates.column_dates` (the world as known at ``as_of``), then call the
calculators of each module (flow, throughput, wip, blocked, sprints, roadmap, health, forecast,
calibration, timelines, quality, cfd, kanban, snapshots), or run them all with
:func:`.pipeline.compute_all`. Nothing is imported here, so a caller that needs one calculator
(the forecast's simulation, say) does not load the others.
"""
