"""What `pulse status` shows of the service: each job's schedule, and the recent runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulse import clock as pulse_clock
from pulse.scheduling.service import REPORT_JOB
from pulse.scheduling.weekly import missed_report, report_trigger
from pulse.settings import Settings
from pulse.store import Store
from pulse.store.lock import REPORT, SHARED, STORE, Scope, holders
from pulse.store.runs import Run, last_runs
from pulse.store.runs import recent_runs as stored_runs


def schedule_preview(
    settings: Settings, store: Store, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per job: its id, interval, next run, last run and status, and which service runs it.

    `next_run` is when the job runs next if a service is (or were) running: a sync one interval
    after its last start (now when overdue), the report at its next weekly time (now when a
    missed report is still within grace). `served_by` names the `pulse serve` holding the job's
    lock, or is None when no service runs it.
    """
    now = now or pulse_clock.now()
    latest, last_report = last_runs(store)
    ids = store.source_ids()
    scopes = [Scope(STORE), *(Scope.source(s.name) for s in settings.sources), Scope(REPORT)]
    held = holders(store, scopes)
    whole = held[STORE] if held[STORE] != SHARED else None
    rows = []
    for source in settings.sources:
        interval = settings.sync_interval(source)
        last = latest.get(ids.get(source.name, -1))
        nxt = now if last is None else max(now, last.started_at + interval)
        rows.append(
            _preview_row(
                f"sync:{source.name}",
                "sync",
                source.name,
                source.sync_every or settings.schedule.sync_every,
                nxt,
                last,
                whole or held[f"source:{source.name}"],
            )
        )
    catch_up = missed_report(settings, store, now)
    nxt_report = report_trigger(settings.schedule).get_next_fire_time(None, now)
    if catch_up is not None and catch_up.run_now:
        nxt_report = now
    rows.append(
        _preview_row(
            REPORT_JOB,
            "report",
            None,
            f"{settings.schedule.weekly_report} {settings.schedule.timezone}",
            nxt_report,
            last_report,
            whole or held[REPORT],
        )
    )
    return rows


def _preview_row(
    job: str,
    kind: str,
    source: str | None,
    every: str,
    nxt: datetime | None,
    last: Run | None,
    served_by: str | None,
) -> dict[str, Any]:
    return {
        "job": job,
        "kind": kind,
        "source": source,
        "every": every,
        "next_run": nxt.astimezone(UTC).isoformat() if nxt else None,
        "last_run": last.started_at.isoformat() if last is not None else None,
        "last_status": last.status if last is not None else None,
        "last_error": last.error if last is not None and last.status != "ok" else None,
        "served_by": served_by,
    }


def recent_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs of every job, newest first, ready for a table or JSON."""
    out = []
    for run, source in stored_runs(store, limit):
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        out.append(
            {
                "job": f"{run.job}:{source}" if source else run.job,
                "trigger": run.trigger,
                "started": run.started_at.isoformat(),
                "seconds": None if seconds is None else round(seconds, 1),
                "status": run.status,
                "counts": run.counts,
                "error": run.error,
            }
        )
    return out
