"""One engine: the workbook and the questions give the same numbers for the same as-of.

Two organisations, synced over loopback from the emulators: the demo's playground (Jira Cloud
and Trello, planted risks) and another multi-source one (Jira Data Center with planted risks, and
Trello). For a past day, every roadmap row and every work-item row of the
workbook's Risks sheet must equal `pulse risk`'s JSON row (status, severity, reasons, evidence,
target, p50/p85/p95, scope, baseline), `pulse forecast` must give the same dates and scope, and
`pulse show` the same team cycle-time percentiles as the Flow sheet. A past Monday's workbook is
the same whether it is written first or after other weeks' reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from pulse import clock
from pulse.cli.common import as_of_instant
from pulse.connectors.runner import sync_source
from pulse.emulators.playground import playground
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.reports.queries.forecast import forecast
from pulse.reports.queries.risk import risk
from pulse.reports.queries.show import show
from pulse.reports.workbook import write_weekly
from pulse.reports.workbook.weekly import resolve_as_of
from pulse.settings import Settings, load_settings
from pulse.store import Store, open_store
from tests.connectors.jira_world import jira_world
from tests.reports.test_workbook import _trello_source

TZ = "Europe/Berlin"
PLANT = ("overdue_epic", "forecast_late_epic", "stalled_epic", "blocked_epic", "scope_growth")


@dataclass
class Org:
    """A synced store, its settings and the past day both the workbook and questions describe."""

    name: str
    store: Store
    settings: Settings
    day: date
    root: Path


def _demo(root: Path) -> tuple[Store, Settings]:
    with playground(seed=7, scale="small") as world:
        config = root / "pulse.toml"
        config.write_text(
            world.config(f"sqlite:///{root / 'pulse.db'}", str(root / "out"), TZ), encoding="utf-8"
        )
        settings = load_settings(config, world.environment())
        store = open_store(settings.store.url)
        for source in settings.sources:
            assert sync_source(source, store).ok
    return store, settings


def _multi(root: Path) -> tuple[Store, Settings]:
    url = f"sqlite:///{root / 'pulse.db'}"
    store = open_store(url)
    trello = TrelloEmulator(TrelloSpec(seed=3, boards=3, cards=250))
    with (
        jira_world("datacenter", seed=21, issues=400, projects=3, plant=PLANT) as dc,
        trello.serve() as server,
    ):
        sources = [dc.source, _trello_source(trello, server.url)]
        for source in sources:
            assert sync_source(source, store).ok
    settings = Settings.model_validate(
        {
            "store": {"url": url},
            "sources": [s.model_dump() for s in sources],
            "report": {"timezone": TZ},
        }
    )
    return store, settings


@pytest.fixture(scope="module", params=["demo", "multi-source"])
def org(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    root = tmp_path_factory.mktemp(request.param)
    store, settings = (_demo if request.param == "demo" else _multi)(root)
    day = clock.now().astimezone(ZoneInfo(TZ)).date() - timedelta(days=2)
    yield Org(request.param, store, settings, day, root)
    store.dispose()


def _table(ws: Any, name: str) -> list[dict[str, Any]]:
    """An Excel table's rows as dicts by header (an empty table's note row dropped)."""
    rows = [[c.value for c in row] for row in ws[ws.tables[name].ref]]
    head = rows[0]
    out = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    return [r for r in out if r[head[1]] is not None]


def _day(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else value


def _codes(cell: Any) -> list[str]:
    return [c for c in str(cell or "").split(", ") if c]


def _write(org: Org, day: date, out: str) -> Path:
    return write_weekly(org.settings, org.store, as_of=day, out_dir=org.root / out).path


def test_the_workbook_and_the_questions_agree_row_for_row(org: Org) -> None:
    when = resolve_as_of(org.day, TZ).to_pydatetime()
    assert when == as_of_instant(org.day.isoformat(), TZ)  # `--as-of DAY` is the same instant
    wb = openpyxl.load_workbook(_write(org, org.day, "out"))
    answer = risk(org.store, org.settings, when).to_json()
    rows = {(r["source"], r["key"]): r for r in answer["rows"]}

    roadmap = {(r["Source"], r["Key"]): r for r in _table(wb["Risks"], "Risks")}
    assert roadmap, "the planted risks make roadmap rows"
    assert set(roadmap) == {k for k, r in rows.items() if r["kind"] != "item"}
    for k, cell in roadmap.items():
        row = rows[k]
        assert cell["Status"] == row["status"], k
        assert cell["Severity"] == row["severity"], k
        assert _codes(cell["Reasons"]) == row["reasons"], k
        assert cell["Evidence"] == "\n".join(e["text"] for e in row["evidence"]), k
        for header, field in (
            ("Target", "target"),
            ("Forecast p50", "p50"),
            ("Forecast p85", "p85"),
            ("Forecast p95", "p95"),
        ):
            assert _day(cell[header]) == row[field], (k, field)
        assert cell["Scope (items)"] == row["scope"], k
        base = row["baseline"]
        assert cell["Baseline scope"] == (None if base is None else base["scope"]), k

    items = {(r["Source"], r["Key"]): r for r in _table(wb["Risks"], "ItemRisks")}
    assert items, "the planted blocked and unestimated items make work-item rows"
    assert set(items) == {k for k, r in rows.items() if r["kind"] == "item"}
    for k, cell in items.items():
        row = rows[k]
        assert (cell["Column"], cell["Level"], cell["Severity"]) == (
            row["status"],
            row["level"],
            row["severity"],
        ), k
        assert _codes(cell["Reasons"]) == row["reasons"], k
        assert cell["Evidence"] == "\n".join(e["text"] for e in row["evidence"]), k
        assert _day(cell["Due"]) == row["target"] and cell["Belongs to"] == row["parent"], k

    # `pulse forecast` of every listed roadmap item whose key names one item
    keys = [k for _, k in roadmap]
    for source, key in roadmap:
        if keys.count(key) > 1 or roadmap[(source, key)]["Kind"] == "Version":
            continue
        doc = forecast(org.store, org.settings, key, when).to_json()
        cell = roadmap[(source, key)]
        assert doc["source"] == source and doc["scope"] == cell["Scope (items)"], key
        assert doc["target"] == _day(cell["Target"]), key
        for q in ("p50", "p85", "p95"):
            assert (doc["forecast"] or {}).get(q) == _day(cell[f"Forecast {q}"]), (key, q)

    # `pulse show`: the team's cycle-time percentiles are the Flow sheet's
    flow = {r["Team"]: r for r in _table(wb["Flow"], "CycleTime")}
    teams = {}
    for (_, key), cell in items.items():
        teams.setdefault(cell["Team"], key)
    assert teams
    for team, key in teams.items():
        got = show(org.store, org.settings, key, when).to_json()["cycle_time"]["team"]
        want = flow.get(team)
        if want is None:
            assert got["count"] == 0, team
            continue
        assert got["count"] == want[next(h for h in want if h.startswith("Items done"))], team
        for q in ("p50", "p85", "p95"):
            assert got[q] == pytest.approx(want[f"{q} (days)"]), (team, q)

    # the same freshness line
    line = answer["freshness"]["line"]
    headline = str(wb.properties.subject)
    assert (line in headline) if line else ("DATA NOT FRESH" not in headline)


_GENERATED = re.compile(r"Generated by Pulse on \d{4}-\d\d-\d\d \d\d:\d\d")


def _cells(path: Path) -> dict[tuple[str, str], Any]:
    """Every cell value of a workbook, the generation time masked."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                value = (
                    _GENERATED.sub("Generated", c.value) if isinstance(c.value, str) else c.value
                )
                out[(ws.title, c.coordinate)] = value
    return out


def test_a_past_mondays_workbook_does_not_depend_on_other_reports(org: Org) -> None:
    monday = org.day - timedelta(days=org.day.weekday() + 7)
    first = _cells(_write(org, monday, "first"))
    for earlier in (monday - timedelta(days=14), monday - timedelta(days=7), monday - timedelta(2)):
        _write(org, earlier, "others")  # they store their snapshots and baselines
    _write(org, monday + timedelta(days=7), "others")
    again = _cells(_write(org, monday, "again"))
    differ = [k for k in first.keys() | again.keys() if first.get(k) != again.get(k)]
    assert not differ, sorted(differ)[:10]
