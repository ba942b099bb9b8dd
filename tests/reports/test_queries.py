"""`pulse risk / forecast / show` as a library, on an organisation with planted delivery risks.

The Jira emulator plants known cases (overdue, forecast-late, stalled, blocked by a dependency,
scope growth, unestimated work in a sprint) and records their keys; a real sync brings them into
a store, and the queries must find each with the right reason codes and flag none as healthy
(issue 6, "Done means").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

from pulse import clock
from pulse.connectors.runner import sync_source
from pulse.reports.queries.errors import QueryError
from pulse.reports.queries.forecast import forecast
from pulse.reports.queries.risk import RiskFilters, risk
from pulse.reports.queries.show import show
from pulse.settings import Settings
from pulse.store import Store, open_store
from tests.connectors.jira_world import jira_world

PLANT = (
    "overdue_epic",
    "forecast_late_epic",
    "stalled_epic",
    "blocked_epic",
    "scope_growth",
    "unestimated",
)
ROOT = Path(__file__).resolve().parents[2]
WORLD_END = clock.last_noon()  # the planted world ends here; the dates below follow it


def day(offset: int) -> date:
    """A day `offset` days after the planted world's end."""
    return (WORLD_END + timedelta(days=offset)).date()


@dataclass
class PlantedOrg:
    """A synced store of a planted organisation, its settings and the emulator's truth."""

    store: Store
    settings: Settings
    now: pd.Timestamp
    planted: dict[str, list[str]]
    path: Path


def build_planted_org(path: Path, url: str | None = None) -> PlantedOrg:
    """Sync a small planted Jira Cloud organisation into a SQLite store at ``path`` (or into
    the store at ``url``)."""
    url = url or f"sqlite:///{path}"
    with jira_world("cloud", seed=21, issues=600, projects=3, plant=PLANT, now=WORLD_END) as world:
        store = open_store(url)
        assert sync_source(world.source, store).ok
        settings = Settings.model_validate(
            {
                "store": {"url": url},
                "sources": [world.source.model_dump()],
                "report": {"timezone": "Europe/Berlin"},
            }
        )
        planted = {k: list(v) for k, v in world.emu.truth.planted.items()}
        now = pd.Timestamp(world.emu.clock.now())
    return PlantedOrg(store, settings, now, planted, path)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantedOrg]:
    built = build_planted_org(tmp_path_factory.mktemp("planted") / "pulse.db")
    yield built
    built.store.dispose()


def schemas() -> dict[str, dict[str, Any]]:
    """The JSON schemas documented in docs/queries.md, by command."""
    text = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    found = re.findall(r"### Schema: (\w+)\n\n```json\n(.*?)\n```", text, flags=re.DOTALL)
    return {name: json.loads(body) for name, body in found}


def validate(doc: dict[str, Any], command: str) -> None:
    schema = schemas()[command]
    checker = jsonschema.FormatChecker()
    jsonschema.validate(json.loads(json.dumps(doc)), schema, format_checker=checker)


def rows_by_key(answer: Any) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in answer.rows}


# -- planted risks ------------------------------------------------------------------------------

EXPECTED = {
    "overdue_epic": "OVERDUE",
    "forecast_late_epic": "FORECAST_LATE",
    "stalled_epic": "STALLED",
    "blocked_epic": "BLOCKED",
    "scope_growth": "SCOPE_GROWTH",
}


def test_every_planted_epic_is_found_with_its_reason(org: PlantedOrg) -> None:
    answer = risk(org.store, org.settings, org.now)
    rows = rows_by_key(answer)
    missing = []
    for plant, code in EXPECTED.items():
        epic = org.planted[plant][0]
        row = rows.get(epic)
        if row is None or code not in row["reasons"]:
            missing.append(f"{plant}: {epic} {row and row['reasons']}")
            continue
        assert row["kind"] == "epic"
        assert row["status"] in ("off track", "at risk"), (plant, row["status"])
        assert len(row["evidence"]) == len(row["reasons"])
    assert not missing, missing
    assert rows[org.planted["overdue_epic"][0]]["status"] == "off track"


def test_planted_evidence_is_plain_language(org: PlantedOrg) -> None:
    rows = rows_by_key(risk(org.store, org.settings, org.now))

    def text(plant: str, code: str) -> str:
        row = rows[org.planted[plant][0]]
        return next(e["text"] for e in row["evidence"] if e["code"] == code)

    assert re.match(r"target \d{4}-\d\d-\d\d passed 10 days ago", text("overdue_epic", "OVERDUE"))
    # 25 children idle for weeks while a sibling finished: late, or never at this pace
    assert re.match(
        r"(p85 \d{4}-\d\d-\d\d is \d+ days after target|no forecast before the horizon)",
        text("forecast_late_epic", "FORECAST_LATE"),
    )
    assert "scope +80% since baseline (5 -> 9 items" in text("scope_growth", "SCOPE_GROWTH")
    blocker = org.planted["blocked_epic"][-1]
    assert f"by {blocker}, itself not started" in text("blocked_epic", "BLOCKED")
    assert "no child moved in 30 days" in text("stalled_epic", "STALLED")


def test_planted_work_items_are_found(org: PlantedOrg) -> None:
    rows = rows_by_key(risk(org.store, org.settings, org.now))
    for key in org.planted["unestimated"]:
        assert "UNESTIMATED" in rows[key]["reasons"], key
        assert rows[key]["kind"] == "item"
        assert "sprint" in rows[key]["evidence"][0]["text"]
    blocked_child = org.planted["blocked_epic"][1]
    row = rows[blocked_child]
    assert "BLOCKED" in row["reasons"] and row["level"] == "high"
    assert row["parent"] == org.planted["blocked_epic"][0]


def test_nothing_planted_is_flagged_healthy(org: PlantedOrg) -> None:
    rows = rows_by_key(risk(org.store, org.settings, org.now))
    for plant in EXPECTED:
        epic = org.planted[plant][0]
        assert rows[epic]["status"] not in ("on track", "done"), (plant, rows[epic])
    # the stalled epic's open children and the scope-growth epic's are flagged too
    for key in org.planted["stalled_epic"][3:]:
        assert {"STALLED", "AGING_WIP"} <= set(rows[key]["reasons"]), key


def test_rows_are_most_severe_first(org: PlantedOrg) -> None:
    answer = risk(org.store, org.settings, org.now)
    sev = [r["severity"] for r in answer.rows]
    assert sev == sorted(sev, reverse=True)
    validate(answer.to_json(), "risk")


@pytest.mark.parametrize(
    "filters",
    [
        RiskFilters(),
        RiskFilters(team="WEB"),
        RiskFilters(reason="BLOCKED"),
        RiskFilters(min_severity="medium"),
        RiskFilters(due_before=day(11)),
    ],
)
def test_a_limited_answer_is_the_head_of_the_whole_one(
    org: PlantedOrg, filters: RiskFilters
) -> None:
    """The table reads only its screenful in full; it must be exactly the top of the list."""
    whole = risk(org.store, org.settings, org.now, filters)
    for limit in (1, 3, len(whole.rows) + 5):
        head = risk(org.store, org.settings, org.now, filters, limit=limit)
        assert head.rows == whole.rows[:limit]
        assert head.to_json()["summary"] == whole.to_json()["summary"]
    assert whole.to_json()["summary"]["rows"] == len(whole.rows)


@pytest.mark.postgres
def test_postgresql_ranks_filters_and_counts_as_sqlite_does(
    org: PlantedOrg, postgres_url: str, tmp_path: Path
) -> None:
    """The database ranks and counts the work items: both dialects must give one answer."""
    pg = build_planted_org(tmp_path / "unused.db", url=postgres_url)
    host = re.compile(r"https?://[^/]+")
    try:
        assert pg.now == org.now
        for filters in (
            RiskFilters(),
            RiskFilters(reason="BLOCKED"),
            RiskFilters(min_severity="medium"),
            RiskFilters(due_before=day(11)),
            RiskFilters(epic=org.planted["blocked_epic"][0]),
        ):
            for limit in (None, 3):
                lite = risk(org.store, org.settings, org.now, filters, limit=limit).to_json()
                post = risk(pg.store, pg.settings, pg.now, filters, limit=limit).to_json()
                for doc in (lite, post):  # each store's own syncs ran at their own instants
                    del doc["freshness"]
                assert host.sub("", json.dumps(post)) == host.sub("", json.dumps(lite))
        # forecast and show read items, stories and the team's data through psycopg alone
        epic, item = org.planted["forecast_late_epic"][0], org.planted["blocked_epic"][1]
        for ask in (
            lambda o: forecast(o.store, o.settings, epic, o.now).to_json(),
            lambda o: forecast(o.store, o.settings, epic, o.now, by=day(41), trials=500).to_json(),
            lambda o: show(o.store, o.settings, item, o.now).to_json(),
        ):
            lite, post = ask(org), ask(pg)
            for doc in (lite, post):
                del doc["freshness"]
            assert host.sub("", json.dumps(post)) == host.sub("", json.dumps(lite))
    finally:
        pg.store.dispose()


# -- filters ------------------------------------------------------------------------------------


def test_team_and_project_filters(org: PlantedOrg) -> None:
    all_rows = risk(org.store, org.settings, org.now).rows
    web = risk(org.store, org.settings, org.now, RiskFilters(team="WEB")).rows
    assert web and {r["team"] for r in web} == {"WEB"}
    assert [r for r in all_rows if r["team"] == "WEB"] == web
    proj = risk(org.store, org.settings, org.now, RiskFilters(project="MOB")).rows
    assert {r["project"] for r in proj} <= {"MOB"}
    source = org.settings.sources[0].name
    assert risk(org.store, org.settings, org.now, RiskFilters(source=source)).rows == all_rows


def test_epic_filter_gives_the_same_answer_as_the_whole_org(org: PlantedOrg) -> None:
    epic = org.planted["blocked_epic"][0]
    whole = rows_by_key(risk(org.store, org.settings, org.now))
    only = risk(org.store, org.settings, org.now, RiskFilters(epic=epic)).rows
    keys = {r["key"] for r in only}
    assert epic in keys
    assert keys <= {epic, *org.planted["blocked_epic"]}
    for row in only:
        assert row == whole[row["key"]]


def test_reason_severity_and_due_filters(org: PlantedOrg) -> None:
    blocked = risk(org.store, org.settings, org.now, RiskFilters(reason="BLOCKED")).rows
    assert blocked and all("BLOCKED" in r["reasons"] for r in blocked)
    high = risk(org.store, org.settings, org.now, RiskFilters(min_severity="high")).rows
    assert high and {r["level"] for r in high} == {"high"}
    cut = day(11)
    due = risk(org.store, org.settings, org.now, RiskFilters(due_before=cut)).rows
    roadmap = [r for r in due if r["kind"] != "item"]
    assert roadmap and all(r["target"] and r["target"] < cut.isoformat() for r in roadmap)
    assert org.planted["overdue_epic"][0] in {r["key"] for r in roadmap}
    assert org.planted["stalled_epic"][0] not in {r["key"] for r in roadmap}


def test_version_filter(org: PlantedOrg) -> None:
    with org.store.engine.connect() as conn:
        name = conn.exec_driver_sql(
            "select v.name from versions v where v.released = 0 order by v.name limit 1"
        ).scalar_one()
    rows = risk(org.store, org.settings, org.now, RiskFilters(version=name)).rows
    for r in rows:
        assert (r["kind"] == "version" and r["key"] == name) or r["kind"] == "item"


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (RiskFilters(project="NOPE"), "unknown project 'NOPE'"),
        (RiskFilters(team="Nobody"), "unknown team 'Nobody'"),
        (RiskFilters(reason="LATE"), "unknown reason code 'LATE'"),
        (RiskFilters(version="9.9.9"), "unknown version '9.9.9'"),
        (RiskFilters(source="elsewhere"), "unknown source 'elsewhere'"),
        (RiskFilters(epic="WEB-99999"), "unknown epic 'WEB-99999'"),
    ],
)
def test_unknown_filter_values(org: PlantedOrg, filters: RiskFilters, message: str) -> None:
    with pytest.raises(QueryError, match=re.escape(message)):
        risk(org.store, org.settings, org.now, filters)


def test_a_story_is_not_an_epic(org: PlantedOrg) -> None:
    story = org.planted["unestimated"][0]
    with pytest.raises(QueryError, match="is a Story, not an epic"):
        risk(org.store, org.settings, org.now, RiskFilters(epic=story))


# -- as-of ----------------------------------------------------------------------------------------


def test_same_as_of_same_answer(org: PlantedOrg) -> None:
    past = org.now - pd.Timedelta(days=30)
    for when in (org.now, past):
        first = risk(org.store, org.settings, when).to_json()
        again = risk(org.store, org.settings, when).to_json()
        assert first == again
    assert risk(org.store, org.settings, past).rows != risk(org.store, org.settings, org.now).rows


def test_as_of_sees_the_store_as_it_was(org: PlantedOrg) -> None:
    epic = org.planted["scope_growth"][0]
    # the four late children joined 20 to 17 days before now
    before = rows_by_key(risk(org.store, org.settings, org.now - pd.Timedelta(days=25)))
    assert "SCOPE_GROWTH" not in before.get(epic, {"reasons": []})["reasons"]
    # the unestimated stories were created 2 days before now
    early = risk(org.store, org.settings, org.now - pd.Timedelta(days=3)).rows
    assert not {r["key"] for r in early} & set(org.planted["unestimated"])
    with pytest.raises(QueryError, match="unknown key"):
        show(org.store, org.settings, org.planted["unestimated"][0], org.now - pd.Timedelta(days=3))


# -- forecast -----------------------------------------------------------------------------------


def test_forecast_matches_risk_and_validates(org: PlantedOrg) -> None:
    epic = org.planted["forecast_late_epic"][0]
    doc = forecast(org.store, org.settings, epic, org.now).to_json()
    validate(doc, "forecast")
    row = rows_by_key(risk(org.store, org.settings, org.now))[epic]
    assert doc["forecast"] == {"p50": row["p50"], "p85": row["p85"], "p95": row["p95"]}
    assert doc["remaining"] == 25 and doc["scope"] == 26
    assert doc["beyond_horizon"] > 0 or doc["histogram"][-1]["cumulative_pct"] == pytest.approx(
        100.0, abs=0.1
    )
    assert sum(h["trials"] for h in doc["histogram"]) + doc["beyond_horizon"] == doc["trials"]
    assert doc == forecast(org.store, org.settings, epic, org.now).to_json()


def test_forecast_by_date(org: PlantedOrg) -> None:
    epic = org.planted["forecast_late_epic"][0]
    doc = forecast(org.store, org.settings, epic, org.now, by=day(41), trials=2000).to_json()
    validate(doc, "forecast")
    assert doc["trials"] == 2000
    by = doc["by"]
    assert by is not None and 0 <= by["items_done"] <= by["remaining"] == 25
    assert by["probability_all_done"] < 0.5
    later = forecast(org.store, org.settings, epic, org.now, by=day(222), trials=2000).to_json()
    assert later["by"]["items_done"] >= by["items_done"]


def test_forecast_of_a_version_and_a_done_epic(org: PlantedOrg) -> None:
    with org.store.engine.connect() as conn:
        name = conn.exec_driver_sql(
            "select name from versions where released = 0 order by name limit 1"
        ).scalar_one()
        done_epic = conn.exec_driver_sql(
            "select key from items where type = 'Epic' and status_category = 'done' limit 1"
        ).scalar_one()
    doc = forecast(org.store, org.settings, name, org.now).to_json()
    validate(doc, "forecast")
    assert doc["kind"] == "version"
    done = forecast(org.store, org.settings, done_epic, org.now).to_json()
    validate(done, "forecast")
    assert done["state"] == "done" and done["forecast"] is None


def test_forecast_rejects_unknown_and_work_item_keys(org: PlantedOrg) -> None:
    with pytest.raises(QueryError, match="unknown key 'NOPE-1'"):
        forecast(org.store, org.settings, "NOPE-1", org.now)
    with pytest.raises(QueryError, match="is a Story: forecast takes an epic"):
        forecast(org.store, org.settings, org.planted["unestimated"][0], org.now)


# -- show ---------------------------------------------------------------------------------------


def test_show_tells_why_an_item_is_stuck(org: PlantedOrg) -> None:
    key = org.planted["blocked_epic"][1]
    doc = show(org.store, org.settings, key, org.now).to_json()
    validate(doc, "show")
    assert doc["stage"] == "in progress" and doc["epic"] == org.planted["blocked_epic"][0]
    assert doc["blocked"] and doc["blocked"][-1]["ongoing"] is True
    blocker = org.planted["blocked_epic"][-1]
    assert {"key": blocker, "stage": "not started"}.items() <= doc["links"][0].items()
    assert [h["status"] for h in doc["history"]] == ["To Do", "In Progress"]
    assert doc["cycle_time"]["standing"]["band"] in ("above p85", "above p95")
    assert doc["columns"][1]["entered"] is not None


def test_show_of_an_epic_and_a_done_item(org: PlantedOrg) -> None:
    epic = org.planted["overdue_epic"][0]
    doc = show(org.store, org.settings, epic, org.now).to_json()
    validate(doc, "show")
    assert len(doc["children"]) == 6
    done_child = org.planted["overdue_epic"][1]
    child = show(org.store, org.settings, done_child, org.now).to_json()
    validate(child, "show")
    assert child["stage"] == "done" and child["cycle_time"]["item"]["what"] == "cycle time"
    assert child["cycle_time"]["item"]["days"] == 10
