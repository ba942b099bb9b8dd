"""`pulse export flow` against a synced Jira emulator: the shape flow-analytics tools import.

jira-agile-metrics' cycle data and ActionableAgile read one row per item with one column per
workflow stage holding the day it was reached (YYYY-MM-DD, empty when not reached), in stage
order, so every row's dates never go backwards from left to right.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pulse.cli.common import as_of_instant
from pulse.cli.export_command import export_flow
from pulse.cli.main import cli
from pulse.connectors.runner import sync_source
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics.column_dates import column_dates
from pulse.reports.metrics.flow_export import LEADING, TRAILING, flow_rows
from pulse.settings import Settings
from pulse.store import open_store
from tests.connectors.jira_world import jira_world

STAGES = ["Backlog", "In Progress", "Done"]  # Jira's status categories, in order
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Synced:
    """A store synced from the emulator and a config file pointing at it."""

    config: Path
    settings: Settings
    now: pd.Timestamp


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    root = tmp_path_factory.mktemp("flow")
    with jira_world("cloud", seed=3, issues=200, projects=2) as world:
        store = open_store(f"sqlite:///{root / 'p.db'}")
        assert sync_source(world.source, store).ok
        store.dispose()
        now = pd.Timestamp(world.emu.clock.now())
    source = world.source
    config = root / "pulse.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{root / "p.db"}"\n\n[report]\ntimezone = "Europe/Berlin"\n\n'
        f'[[sources]]\nname = "{source.name}"\nkind = "jira"\nurl = "{source.url}"\n'
        f'user = "{source.user}"\ntoken = "${{PULSE_TEST_TOKEN}}"\n'
        f"projects = {json.dumps(source.projects)}\n",
        encoding="utf-8",
    )
    settings = Settings.model_validate(
        {"sources": [source.model_dump()], "report": {"timezone": "Europe/Berlin"}}
    )
    yield Synced(config, settings, now)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_TEST_TOKEN", "unused: the export reads only the store")


def test_rows_have_a_date_per_stage_in_order(synced: Synced) -> None:
    store = open_store(f"sqlite:///{synced.config.parent / 'p.db'}")
    dataset = load_dataset(store, synced.settings, synced.now)
    columns, rows = flow_rows(dataset)
    assert columns == [*LEADING, *STAGES, *TRAILING]
    cd = column_dates(
        dataset.inputs.items,
        dataset.inputs.transitions,
        dataset.config.workflows,
        dataset.as_of,
        "Europe/Berlin",
    )
    expected = cd.items[~cd.items["is_subtask"].to_numpy(dtype=bool)]
    assert len(rows) == len(expected) > 100
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    assert {r["key"] for r in records} == set(expected["key"])
    assert any(r["completed"] for r in records) and not all(r["completed"] for r in records)
    for rec in records:
        days = [rec[s] for s in STAGES]
        reached = [d for d in days if d is not None]
        assert all(DAY.match(d) for d in reached)
        assert days[: len(reached)] == reached  # reached stages come first, none skipped
        assert reached == sorted(reached)  # never backwards
        assert rec["completed"] == (rec["Done"] is not None)
        if rec["completed"]:
            done = pd.Timestamp(rec["Done"])
            assert rec["lead_time_days"] == (done - pd.Timestamp(rec["created"])).days
            assert rec["cycle_time_days"] == (done - pd.Timestamp(rec["In Progress"])).days
        else:
            assert rec["cycle_time_days"] is None and rec["lead_time_days"] is None
    store.dispose()


def test_csv_export_is_loadable_by_flow_tools(
    synced: Synced, token: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "flow.csv"
    export_flow(str(synced.config), "csv", str(out), None)
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == [*LEADING, *STAGES, *TRAILING]
    assert f"wrote {len(rows)} flow rows to {out}" in capsys.readouterr().err
    open_items = [r for r in rows if r["completed"] == "False"]
    assert open_items and all(r["Done"] == "" and r["cycle_time_days"] == "" for r in open_items)
    done = [r for r in rows if r["completed"] == "True"]
    assert done and all(DAY.match(r["Done"]) and r["cycle_time_days"].isdigit() for r in done)


def test_json_export_has_nulls_for_stages_not_reached(
    synced: Synced, token: None, capsys: pytest.CaptureFixture[str]
) -> None:
    export_flow(str(synced.config), "json", None, None)
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0]) == [*LEADING, *STAGES, *TRAILING]
    assert {type(r["completed"]) for r in rows} == {bool}
    assert any(r["Done"] is None and r["cycle_time_days"] is None for r in rows)


def test_an_earlier_as_of_exports_fewer_items(
    synced: Synced, token: None, capsys: pytest.CaptureFixture[str]
) -> None:
    export_flow(str(synced.config), "json", None, None)
    now = json.loads(capsys.readouterr().out)
    day = (synced.now - pd.Timedelta(days=60)).strftime("%Y-%m-%d")
    export_flow(str(synced.config), "json", None, day)
    then = json.loads(capsys.readouterr().out)
    assert 0 < len(then) < len(now)
    assert max(r["created"] for r in then) <= day
    done_now = {r["key"] for r in now if r["completed"] and r["Done"] > day}
    done_later = [r for r in then if r["key"] in done_now]
    assert done_later  # open then, done since: shown as they were
    assert all(not r["completed"] and r["Done"] is None for r in done_later)


def test_as_of_is_a_local_day_or_an_instant() -> None:
    end_of_day = pd.Timestamp("2026-03-02 22:59:59.999999", tz="UTC")  # Berlin is UTC+1
    assert as_of_instant("2026-03-02", "Europe/Berlin") == end_of_day
    assert as_of_instant("2026-03-02T10:00", "Europe/Berlin") == pd.Timestamp(
        "2026-03-02 09:00", tz="UTC"
    )
    assert as_of_instant("2026-03-02T10:00Z", "Europe/Berlin") == pd.Timestamp(
        "2026-03-02 10:00", tz="UTC"
    )
    with pytest.raises(SystemExit) as exc:
        as_of_instant("last monday", "Europe/Berlin")
    assert exc.value.code == 2


def test_pulse_export_flow(synced: Synced, token: None, tmp_path: Path) -> None:
    out = tmp_path / "flow.json"
    result = CliRunner().invoke(
        cli, ["export", "flow", "--config", str(synced.config), "--format", "json", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text(encoding="utf-8"))[0]) == [*LEADING, *STAGES, *TRAILING]
