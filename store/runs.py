"""The run history (`sync_runs`): one row per sync or report run, opened and closed here.

Syncs from the command line and the service, and the service's reports, all record their runs
here; `pulse status`, the scheduler's catch-up and the analysis cache read them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update

from pulse import clock
from pulse.store.engine import Store
from pulse.store.run_owner import current_owner, is_dead
from pulse.store.schema import sync_runs as RUNS
from pulse.store.sources import source_names

SCHEDULED = "schedule"  # the trigger of the service's runs
# A scheduled report counts as done once a run of it ended one of these ways; an interrupted
# run (service stopped mid-report) or one still `running` after a crash is run again.
HANDLED = ("ok", "failed", "missed")


@dataclass(frozen=True)
class Run:
    """One row of the run history."""

    id: int
    source_id: int | None
    job: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: Mapping[str, Any]
    error: str | None


def _run(row: Any) -> Run:
    return Run(
        id=row.id,
        source_id=row.source_id,
        job=row.job,
        trigger=row.trigger,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        counts=_counts(row.counts),
        error=row.error,
    )


def _counts(value: str | None) -> Mapping[str, Any]:
    if not value:
        return {}
    try:
        loaded = json.loads(value)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def start_run(conn: Connection, source_id: int | None, job: str, trigger: str, full: bool) -> int:
    """Open a run-history row in state `running`, owned by this process; first close the rows
    that killed processes of this host left `running`."""
    close_dead_runs(conn)
    result = conn.execute(
        insert(RUNS).values(
            source_id=source_id,
            job=job,
            trigger=trigger,
            full=full,
            started_at=clock.now(),
            status="running",
            requests=0,
            owner=current_owner(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def close_dead_runs(conn: Connection) -> int:
    """Mark `interrupted` the running rows whose process (on this host) is gone."""
    running = conn.execute(select(RUNS.c.id, RUNS.c.owner).where(RUNS.c.status == "running")).all()
    dead = [run_id for run_id, owner in running if is_dead(owner)]
    if dead:
        conn.execute(
            update(RUNS)
            .where(RUNS.c.id.in_(dead))
            .values(status="interrupted", error="its process ended before the run finished")
        )
    return len(dead)


def finish_run(
    conn: Connection,
    run_id: int,
    status: str,
    counts: Mapping[str, Any] | None = None,
    requests: int = 0,
    error: str | None = None,
) -> None:
    """Close a run-history row with its outcome."""
    conn.execute(
        update(RUNS)
        .where(RUNS.c.id == run_id)
        .values(
            finished_at=clock.now(),
            status=status,
            counts=json.dumps(dict(counts or {}), sort_keys=True),
            requests=requests,
            error=error,
        )
    )


def record_run(
    store: Store,
    source_id: int | None,
    job: str,
    status: str,
    counts: Mapping[str, Any],
    error: str,
    trigger: str = SCHEDULED,
) -> None:
    """One closed history row for a run that did not happen (e.g. `missed`)."""
    with store.transaction() as conn:
        run_id = start_run(conn, source_id, job, trigger, False)
        finish_run(conn, run_id, status, counts, 0, error)


def report_handled_since(store: Store, instant: datetime) -> bool:
    """Whether a report run started at or after `instant` and ended (ok, failed or missed)."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(RUNS.c.id)
            .where(RUNS.c.job == "report", RUNS.c.started_at >= instant)
            .where(RUNS.c.status.in_(HANDLED))
            .limit(1)
        ).first()
    return found is not None


def service_ran_before(store: Store, instant: datetime) -> bool:
    """Whether the service ran any job before `instant` (a fresh install has missed nothing)."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(RUNS.c.id)
            .where(RUNS.c.trigger == SCHEDULED, RUNS.c.started_at < instant)
            .limit(1)
        ).first()
    return found is not None


def interrupt_scheduled_runs(store: Store, source_ids: Iterable[int], report: bool) -> int:
    """Mark `interrupted` the scheduled runs left `running` of these sources (and of the
    report, with `report`): for a service that holds their lock, a previous life's leftovers."""
    owned: list[ColumnElement[bool]] = [RUNS.c.source_id.in_(list(source_ids))]
    if report:
        owned.append(RUNS.c.job == "report")
    with store.transaction() as conn:
        result = conn.execute(
            update(RUNS)
            .where(and_(RUNS.c.status == "running", RUNS.c.trigger == SCHEDULED, or_(*owned)))
            .values(status="interrupted", error="the service stopped before the run finished")
        )
    return int(result.rowcount or 0)


def last_runs(store: Store) -> tuple[dict[int, Run], Run | None]:
    """The latest sync run per source id, and the latest report run."""
    latest: dict[int, Run] = {}
    report = None
    with store.engine.connect() as conn:
        query = select(RUNS).where(RUNS.c.job.in_(("sync", "report")))
        for row in conn.execute(query.order_by(RUNS.c.started_at, RUNS.c.id)):
            if row.job == "report":
                report = _run(row)
            elif row.source_id is not None:
                latest[row.source_id] = _run(row)
    return latest, report


def last_sync(conn: Connection, source_id: int, status: str | None = None) -> Run | None:
    """A source's latest sync run (with `status`, its latest run that ended so)."""
    query = select(RUNS).where(RUNS.c.source_id == source_id, RUNS.c.job == "sync")
    if status is not None:
        query = query.where(RUNS.c.status == status)
    row = conn.execute(query.order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(1)).first()
    return None if row is None else _run(row)


def recent_runs(store: Store, limit: int = 20) -> list[tuple[Run, str | None]]:
    """The latest runs of every job, newest first, each with its source's name."""
    with store.engine.connect() as conn:
        names = source_names(conn)
        query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
        return [(_run(row), names.get(row.source_id)) for row in conn.execute(query)]
