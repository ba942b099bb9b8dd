"""The service's reads and writes of the run history (`sync_runs`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select, update

from pulse.store import Store, schema
from pulse.store.writes import finish_run, start_run

RUNS = schema.sync_runs
TRIGGER = "schedule"
# A scheduled report counts as done once a run of it ended one of these ways; an interrupted
# run (service stopped mid-report) or one still `running` after a crash is run again.
HANDLED = ("ok", "failed", "missed")


def report_handled_since(conn: Connection, instant: datetime) -> bool:
    """Whether a report run started at or after `instant` and ended (ok, failed or missed)."""
    found = conn.execute(
        select(RUNS.c.id)
        .where(RUNS.c.job == "report", RUNS.c.started_at >= instant, RUNS.c.status.in_(HANDLED))
        .limit(1)
    ).first()
    return found is not None


def service_ran_before(conn: Connection, instant: datetime) -> bool:
    """Whether the service ran any job before `instant` (a fresh install has missed nothing)."""
    found = conn.execute(
        select(RUNS.c.id).where(RUNS.c.trigger == TRIGGER, RUNS.c.started_at < instant).limit(1)
    ).first()
    return found is not None


def record_missed(
    store: Store, job: str, source_id: int | None, scheduled: datetime, reason: str
) -> None:
    """One history row, status `missed`, for a scheduled run that did not happen."""
    with store.transaction() as conn:
        run_id = start_run(conn, source_id, job, TRIGGER, False)
        finish_run(conn, run_id, "missed", {"scheduled": scheduled.isoformat()}, 0, reason)


def close_stale_runs(store: Store, source_ids: Iterable[int], report: bool) -> int:
    """Mark this service's runs left `running` by a previous life as `interrupted`.

    Only scheduled runs of the scopes this service holds the lock for: nothing else can be
    running them, while a `pulse sync` from the command line may be running right now.
    """
    owned: list[ColumnElement[bool]] = [RUNS.c.source_id.in_(list(source_ids))]
    if report:
        owned.append(RUNS.c.job == "report")
    with store.transaction() as conn:
        result = conn.execute(
            update(RUNS)
            .where(and_(RUNS.c.status == "running", RUNS.c.trigger == TRIGGER, or_(*owned)))
            .values(status="interrupted", error="the service stopped before the run finished")
        )
    return int(result.rowcount or 0)


def last_runs(store: Store) -> tuple[dict[int, Any], Any]:
    """The latest sync run per source id, and the latest report run (rows or None)."""
    latest: dict[int, Any] = {}
    report = None
    with store.engine.connect() as conn:
        query = select(RUNS).where(RUNS.c.job.in_(("sync", "report")))
        for row in conn.execute(query.order_by(RUNS.c.started_at, RUNS.c.id)):
            if row.job == "report":
                report = row
            elif row.source_id is not None:
                latest[row.source_id] = row
    return latest, report


def recent_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs of every job, newest first, ready for a table or JSON."""
    names = {}
    out = []
    with store.engine.connect() as conn:
        for src in conn.execute(select(schema.sources.c.id, schema.sources.c.name)):
            names[src.id] = src.name
        query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
        for row in conn.execute(query):
            seconds = (
                (row.finished_at - row.started_at).total_seconds() if row.finished_at else None
            )
            out.append(
                {
                    "job": job_id(row.job, names.get(row.source_id)),
                    "trigger": row.trigger,
                    "started": row.started_at.isoformat(),
                    "seconds": None if seconds is None else round(seconds, 1),
                    "status": row.status,
                    "counts": _counts(row.counts),
                    "error": row.error,
                }
            )
    return out


def job_id(job: str, source: str | None) -> str:
    """The scheduler's id for a job: `sync:<source>` or `report`."""
    return f"{job}:{source}" if source else job


def _counts(value: str | None) -> Mapping[str, Any]:
    if not value:
        return {}
    try:
        loaded = json.loads(value)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
