"""The service's scheduling: the weekly trigger across DST, catch-up of a missed report, the
sync jobs in real time against the Jira emulator, missed runs, and what `pulse status` shows."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, select

from pulse import clock
from pulse.emulators.http import Fault
from pulse.scheduling.logline import job_line
from pulse.scheduling.service import Service
from pulse.scheduling.status import recent_runs, schedule_preview
from pulse.scheduling.weekly import ReportTrigger, missed_report, previous_fire_time
from pulse.settings import ScheduleSettings, Settings, StoreSettings
from pulse.store import Store, open_store, schema
from tests.connectors.jira_world import jira_world

BERLIN = ZoneInfo("Europe/Berlin")
TINY = {"seed": 5, "issues": 30, "projects": 2}


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- the weekly trigger, on a controlled clock --------------------------------------------------


def fires(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(out) < count:
        out.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return out


def test_monday_seven_stays_seven_local_across_spring_forward() -> None:
    trigger = ReportTrigger("mon 07:00", BERLIN)
    got = fires(trigger, berlin(2024, 3, 20, 12), 3)
    assert [f.astimezone(UTC) for f in got] == [
        utc(2024, 3, 25, 6),  # CET, UTC+1
        utc(2024, 4, 1, 5),  # CEST, UTC+2: the week was 167 hours long
        utc(2024, 4, 8, 5),
    ]
    assert all(f.astimezone(BERLIN).hour == 7 for f in got)


def test_monday_seven_stays_seven_local_across_fall_back() -> None:
    got = fires(ReportTrigger("mon 07:00", BERLIN), berlin(2024, 10, 20, 12), 2)
    assert [f.astimezone(UTC) for f in got] == [utc(2024, 10, 21, 5), utc(2024, 10, 28, 6)]


def test_plain_cron_trigger_across_dst_matches() -> None:
    """APScheduler's own CronTrigger agrees for a time that exists once on every day."""
    plain = CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=BERLIN)
    start = berlin(2024, 3, 20, 12)
    assert fires(plain, start, 3) == fires(ReportTrigger("mon 07:00", BERLIN), start, 3)


def test_a_repeated_local_time_fires_once_in_autumn() -> None:
    """`sun 02:30` happens twice on 27 Oct 2024 in Berlin; CronTrigger fires twice, we once."""
    start = berlin(2024, 10, 26, 12)
    plain = CronTrigger(day_of_week="sun", hour=2, minute=30, timezone=BERLIN)
    assert [f.astimezone(UTC) for f in fires(plain, start, 2)] == [
        utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 27, 1, 30),
    ]
    ours = fires(ReportTrigger("sun 02:30", BERLIN), start, 2)
    assert [f.astimezone(UTC) for f in ours] == [utc(2024, 10, 27, 0, 30), utc(2024, 11, 3, 1, 30)]
    # ... also when the service starts between the two occurrences
    between = ReportTrigger("sun 02:30", BERLIN).get_next_fire_time(None, utc(2024, 10, 27, 1))
    assert between is not None and between.astimezone(UTC) == utc(2024, 11, 3, 1, 30)


def test_a_skipped_local_time_fires_once_in_spring() -> None:
    """`sun 02:30` does not exist on 31 Mar 2024 in Berlin: it fires once, at 03:30 CEST."""
    got = fires(ReportTrigger("sun 02:30", BERLIN), berlin(2024, 3, 30, 12), 2)
    assert [f.astimezone(UTC) for f in got] == [utc(2024, 3, 31, 1, 30), utc(2024, 4, 7, 0, 30)]


def test_previous_fire_time_across_dst() -> None:
    trigger = ReportTrigger("mon 07:00", BERLIN)
    assert previous_fire_time(trigger, utc(2024, 4, 1, 4, 59)) == utc(2024, 3, 25, 6)
    assert previous_fire_time(trigger, utc(2024, 4, 1, 5)) == utc(2024, 4, 1, 5)
    assert previous_fire_time(trigger, utc(2024, 4, 7, 23)) == utc(2024, 4, 1, 5)
    autumn = ReportTrigger("sun 02:30", BERLIN)
    assert previous_fire_time(autumn, utc(2024, 10, 27, 2)) == utc(2024, 10, 27, 0, 30)


# --- catch-up of a report missed while the service was down, with an injected "now" -------------


def settings_for(url: str, **schedule: Any) -> Settings:
    return Settings(
        store=StoreSettings(url=url),
        schedule=ScheduleSettings(
            **{"timezone": "Europe/Berlin", "report_grace": "6h", **schedule}
        ),
    )


def add_run(
    store: Store, job: str, started: datetime, status: str, trigger: str = "schedule"
) -> None:
    with store.transaction() as conn:
        conn.execute(
            insert(schema.sync_runs).values(
                source_id=None,
                job=job,
                trigger=trigger,
                started_at=started,
                finished_at=started,
                status=status,
                full=False,
                requests=0,
            )
        )


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    opened = open_store(sqlite_url)
    yield opened
    opened.dispose()


def test_missed_report_runs_within_grace_across_spring_forward(store: Store) -> None:
    settings = settings_for(store.url)
    add_run(store, "report", utc(2024, 3, 25, 6), "ok")
    add_run(store, "sync", utc(2024, 3, 31, 20), "ok")
    # Monday 1 April 07:00 CEST is 05:00 UTC; at 12:59 CEST it is 5h59m late: within 6h.
    within = missed_report(settings, store, berlin(2024, 4, 1, 12, 59))
    assert within is not None
    assert within.scheduled == utc(2024, 4, 1, 5)
    assert within.run_now and within.record
    # At 13:01 CEST it is 6h01m late (a CET reading of 07:00 would say 5h01m and run it).
    beyond = missed_report(settings, store, berlin(2024, 4, 1, 13, 1))
    assert beyond is not None and not beyond.run_now and beyond.record


def test_a_report_that_ended_is_not_run_again(store: Store) -> None:
    settings = settings_for(store.url)
    now = berlin(2024, 4, 1, 9)
    for status in ("ok", "failed", "missed"):
        add_run(store, "report", utc(2024, 4, 1, 5, 0, 1), status)
        assert missed_report(settings, store, now) is None
        with store.transaction() as conn:
            conn.execute(schema.sync_runs.delete())


def test_an_interrupted_or_crashed_report_runs_again(sqlite_store: Store, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url)
    add_run(sqlite_store, "report", utc(2024, 4, 1, 5, 0, 1), "interrupted")
    add_run(sqlite_store, "report", utc(2024, 4, 1, 5, 2), "running")
    due = missed_report(settings, sqlite_store, berlin(2024, 4, 1, 9))
    assert due is not None and due.run_now


def test_a_fresh_install_records_no_missed_report(sqlite_store: Store, sqlite_url: str) -> None:
    due = missed_report(settings_for(sqlite_url), sqlite_store, berlin(2024, 4, 3, 9))
    assert due is not None and not due.run_now and not due.record


# --- the service in real time ------------------------------------------------------------------


def weekly_at(offset: timedelta, zone: ZoneInfo = BERLIN) -> str:
    """A `weekly_report` value for the local time `offset` from now."""
    local = (clock.now() + offset).astimezone(zone)
    return f"{local.strftime('%a').lower()} {local:%H:%M}"


def service_settings(url: str, sources: list[Any], **schedule: Any) -> Settings:
    """Every 2 s; the weekly report three days away (so no test depends on today's date)."""
    defaults = {
        "sync_every": "2s",
        "timezone": "Europe/Berlin",
        "weekly_report": weekly_at(timedelta(days=3)),
    }
    return Settings(
        store=StoreSettings(url=url),
        schedule=ScheduleSettings(**{**defaults, **schedule}),
        sources=sources,
    )


def runs(store: Store, job: str | None = None) -> list[Any]:
    query = select(schema.sync_runs).order_by(schema.sync_runs.c.id)
    if job is not None:
        query = query.where(schema.sync_runs.c.job == job)
    with store.engine.connect() as conn:
        return list(conn.execute(query))


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def test_sync_job_runs_every_two_seconds_against_the_emulator(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pulse.service")
    with jira_world("cloud", **TINY) as world:
        settings = service_settings(store.url, [world.source])
        service = Service(settings, store, report=False)
        started = time.monotonic()
        planned = service.start()
        assert [job.id for job in planned] == ["sync:jira-cloud"]
        try:
            wait_for(
                lambda: sum(r.status == "ok" for r in runs(store, "sync")) >= 3,
                15,
                "three scheduled syncs",
            )
        finally:
            assert service.shutdown()
        elapsed = time.monotonic() - started
    done = [r for r in runs(store, "sync") if r.status == "ok"]
    assert all(r.trigger == "schedule" for r in done)
    assert 3.5 <= elapsed < 12, "a never-synced source syncs at once, then every 2 s"
    gaps = [(b.started_at - a.started_at).total_seconds() for a, b in pairwise(done)]
    # Runs are due every 2 s; a loaded machine may skip one tick (a gap of 4 s plus the
    # scheduler's jitter), never run two at once.
    assert all(0.8 <= gap <= 4.5 for gap in gaps), gaps
    assert 1.6 <= sum(gaps) / len(gaps) <= 3, gaps
    assert done[0].counts and json.loads(done[0].counts)["new"] == 30
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("job=sync:")]
    assert len(lines) >= 3
    assert lines[0].startswith("job=sync:jira-cloud trigger=schedule status=ok seconds=")
    assert " new=30 " in lines[0] and " requests=" in lines[0]


def test_a_slow_sync_is_never_run_twice_at_once(
    sqlite_store: Store, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pulse.service")
    with jira_world("cloud", **TINY) as world:
        world.server.faults.inject(Fault("latency", seconds=0.25, count=10**6))
        settings = service_settings(sqlite_url, [world.source], sync_every="1s")
        service = Service(settings, sqlite_store, report=False)
        service.start()
        try:
            wait_for(lambda: len(runs(sqlite_store, "sync")) >= 2, 30, "two syncs")
        finally:
            assert service.shutdown()
    history = runs(sqlite_store, "sync")
    for earlier, later in pairwise(history):
        assert earlier.finished_at <= later.started_at, "two runs of one job overlapped"
    assert any("status=skipped" in r.getMessage() for r in caplog.records)


def test_a_sync_missed_beyond_its_grace_is_logged_and_recorded(
    sqlite_store: Store, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """APScheduler itself finds the run late (a suspended or busy process) and skips it."""
    caplog.set_level(logging.WARNING, logger="pulse.service")
    with jira_world("cloud", **TINY) as world:
        settings = service_settings(sqlite_url, [world.source], sync_every="1h")
        service = Service(settings, sqlite_store, report=True, write_report=unused_writer)
        add_run(sqlite_store, "report", clock.now(), "ok")  # this week's is done
        service.start()
        try:
            wait_for(lambda: any(r.status == "ok" for r in runs(sqlite_store, "sync")), 15, "sync")
            assert service.scheduler is not None
            # The report's Monday run comes 7 hours late, past its 6 hours of grace.
            late = clock.now() - timedelta(hours=7)
            service.scheduler.modify_job("report", next_run_time=clock.to_wall(late))
            wait_for(lambda: any(r.status == "missed" for r in runs(sqlite_store)), 10, "a miss")
            # A coalesced interval job is never more than one interval late, so a sync only
            # misses when the executor cannot start it in time; its listener path is the same.
            service._on_event(
                JobExecutionEvent(
                    EVENT_JOB_MISSED, "sync:jira-cloud", "default", clock.to_wall(late)
                )
            )
        finally:
            assert service.shutdown()
    missed = {r.job: r for r in runs(sqlite_store) if r.status == "missed"}
    assert set(missed) == {"sync", "report"}
    assert missed["sync"].source_id == sqlite_store.source_ids()["jira-cloud"]
    assert "misfire grace (1h)" in missed["sync"].error
    assert missed["report"].trigger == "schedule" and "misfire grace (6h)" in missed["report"].error
    scheduled = datetime.fromisoformat(json.loads(missed["report"].counts)["scheduled"])
    assert abs(scheduled - late) < timedelta(seconds=1)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("job=report trigger=schedule status=missed") for m in messages)


def unused_writer(settings: Settings, store: Store, as_of: datetime) -> Any:
    raise AssertionError("the report must not run in this test")


@dataclass
class Written:
    path: Path
    headline: str
    week: str


def workbook_writer(
    directory: Path, calls: list[datetime]
) -> Callable[[Settings, Store, datetime], Any]:
    """A stand-in for reports.workbook.write_weekly (tests only): writes a small file."""

    def write(settings: Settings, store: Store, as_of: datetime) -> Written:
        calls.append(as_of)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "pulse-weekly-2024-W14.xlsx"
        path.write_bytes(b"PK\x03\x04 not really a workbook")
        return Written(path, "Throughput up 10%", "2024-W14")

    return write


def test_report_missed_while_down_runs_at_start_within_grace(
    tmp_path: Path, sqlite_store: Store, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pulse.service")
    zone = ZoneInfo("Europe/Berlin")
    settings = service_settings(
        sqlite_url,
        [],
        weekly_report=weekly_at(-timedelta(hours=1), zone),
        timezone="Europe/Berlin",
        deliver_to=str(tmp_path / "share"),
    )
    add_run(sqlite_store, "sync", clock.now() - timedelta(days=3), "ok")
    calls: list[datetime] = []
    service = Service(settings, sqlite_store, write_report=workbook_writer(tmp_path / "out", calls))
    planned = service.start()
    try:
        assert planned[0].id == "report"
        wait_for(lambda: any(r.status == "ok" for r in runs(sqlite_store, "report")), 10, "report")
    finally:
        assert service.shutdown()
    assert len(calls) == 1
    (run,) = runs(sqlite_store, "report")
    counts = json.loads(run.counts)
    assert run.trigger == "schedule" and 3500 <= counts["late_seconds"] <= 3700
    assert calls == [datetime.fromisoformat(counts["scheduled"])], "as_of is the scheduled time"
    assert (tmp_path / "share" / "pulse-weekly-2024-W14.xlsx").read_bytes().startswith(b"PK")
    assert counts["delivered"] == [f"copy:{tmp_path / 'share' / 'pulse-weekly-2024-W14.xlsx'}"]
    line = next(m for m in (r.getMessage() for r in caplog.records) if m.startswith("job=report"))
    assert "status=ok" in line and "week=2024-W14" in line
    # A restart in the same week does not write it again.
    again = Service(settings, sqlite_store, write_report=workbook_writer(tmp_path / "out", calls))
    assert again.plan(clock.now())[0].next_run > clock.now() + timedelta(days=6)


@pytest.mark.parametrize(("grace", "status"), [("6h", "ok"), ("1h", "missed")])
def test_a_report_run_two_hours_late_still_runs_within_report_grace(
    tmp_path: Path, sqlite_store: Store, sqlite_url: str, grace: str, status: str
) -> None:
    """The process was suspended across Monday's run: APScheduler fires it 2 h late, within the
    6 h grace (and records it missed with 1 h). The service's clock jumps as after a resume."""
    settings = service_settings(
        sqlite_url, [], weekly_report=weekly_at(-timedelta(hours=2)), report_grace=grace
    )
    resumed = clock.now()
    starts = iter([resumed - timedelta(hours=3)])  # planned before the run was due
    calls: list[datetime] = []
    service = Service(
        settings,
        sqlite_store,
        write_report=workbook_writer(tmp_path / "out", calls),
        clock=lambda: next(starts, None) or clock.now(),
    )
    (planned,) = service.start()
    try:
        assert planned.id == "report" and planned.next_run < resumed - timedelta(hours=1)
        wait_for(lambda: bool(runs(sqlite_store, "report")), 10, "the report's run")
    finally:
        assert service.shutdown()
    (run,) = runs(sqlite_store, "report")
    assert (run.trigger, run.status) == ("schedule", status)
    scheduled = datetime.fromisoformat(json.loads(run.counts)["scheduled"])
    assert abs(scheduled - planned.next_run) < timedelta(seconds=1)
    if status == "ok":
        assert calls == [scheduled]
        assert 7100 <= json.loads(run.counts)["late_seconds"] <= 7300
    else:
        assert not calls and "misfire grace (1h)" in run.error


def test_report_missed_beyond_grace_is_recorded_once_and_not_run(
    tmp_path: Path, sqlite_store: Store, sqlite_url: str
) -> None:
    settings = service_settings(
        sqlite_url, [], weekly_report=weekly_at(-timedelta(hours=1)), report_grace="30m"
    )
    add_run(sqlite_store, "sync", clock.now() - timedelta(days=3), "ok")
    for _ in range(2):  # a second start must not record it again
        service = Service(settings, sqlite_store, write_report=unused_writer)
        service.start()
        time.sleep(0.5)
        assert service.shutdown()
    (missed,) = runs(sqlite_store, "report")
    assert (missed.status, missed.trigger) == ("missed", "schedule")
    assert "past report_grace 30m" in missed.error


def test_a_failing_report_is_logged_and_recorded(
    sqlite_store: Store, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(settings: Settings, store: Store, as_of: datetime) -> Any:
        raise RuntimeError("no data for the week")

    service = Service(service_settings(sqlite_url, []), sqlite_store, write_report=broken)
    assert service.run_report(clock.now()) == "failed"
    (run,) = runs(sqlite_store, "report")
    assert (run.status, run.error) == ("failed", "RuntimeError: no data for the week")
    assert any(
        "status=failed" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records
    )


def test_runs_left_running_by_a_dead_service_are_closed(store: Store) -> None:
    add_run(store, "report", clock.now() - timedelta(minutes=5), "running")
    add_run(store, "report", clock.now() - timedelta(minutes=5), "running", "cli")
    service = Service(service_settings(store.url, []), store, write_report=unused_writer)
    service.start()
    assert service.shutdown()
    statuses = sorted((r.trigger, r.status) for r in runs(store, "report"))
    assert statuses[:2] == [("cli", "running"), ("schedule", "interrupted")]


# --- the log line and what `pulse status` shows -----------------------------------------------


def test_job_line_is_key_value_with_quoted_text() -> None:
    line = job_line(
        "sync:acme", "failed", 1.234, {"new": 2, "census": True, "extra": {}}, error="HTTP 401: no"
    )
    assert line == (
        "job=sync:acme trigger=schedule status=failed seconds=1.23 new=2 census=true "
        'error="HTTP 401: no"'
    )


def test_schedule_preview_and_recent_runs(store: Store) -> None:
    with jira_world("cloud", **TINY) as world:
        settings = service_settings(
            store.url, [world.source], sync_every="15m", weekly_report="mon 07:00", timezone="UTC"
        )
        from pulse.connectors.runner import sync_source

        assert sync_source(world.source, store, trigger="schedule").ok
    now = clock.now()
    rows = {row["job"]: row for row in schedule_preview(settings, store, now)}
    assert set(rows) == {"sync:jira-cloud", "report"}
    sync = rows["sync:jira-cloud"]
    assert sync["last_status"] == "ok" and sync["every"] == "15m" and sync["served_by"] is None
    next_sync = datetime.fromisoformat(sync["next_run"])
    assert timedelta(minutes=14) < next_sync - now <= timedelta(minutes=15)
    report = rows["report"]
    assert report["every"] == "mon 07:00 UTC" and report["last_run"] is None
    assert datetime.fromisoformat(report["next_run"]).astimezone(UTC).weekday() == 0
    recent = recent_runs(store)
    assert recent[0]["job"] == "sync:jira-cloud" and recent[0]["status"] == "ok"
    assert recent[0]["counts"]["new"] == 30
