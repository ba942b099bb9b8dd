"""Pulse metrics engine: pure, typed calculators over pandas frames (see docs/metrics.md).

Products run the calculators only through :mod:`.pipeline` (:func:`.pipeline.compute_all`,
:func:`.pipeline.weekly`), over the frames :mod:`pulse.reports.dataset` loads; the modules
(column_dates,
flow, throughput, wip, blocked, sprints, roadmap, baselines, health, item_risks, forecast,
timelines, quality, cfd, kanban, snapshots) hold the calculators it calls. Nothing is imported
here, so a caller that needs one module does not load the others.
"""
