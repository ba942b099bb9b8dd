"""The Monday workbook from a real store: Jira (and Trello) emulators synced, two consecutive
weekly reports written, each re-read with openpyxl and pandas, and rendered by LibreOffice.

Issue 5: sheets in order, native tables with filters, frozen headers, typed dates, links,
charts, no formula from adversarial titles, atomic writes, "what changed" from week to week.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from pulse import clock
from pulse.cli.main import cli
from pulse.connectors.runner import sync_source
from pulse.emulators.jira.org import RISKS
from pulse.reports.queries.risk import risk
from pulse.reports.workbook import SHEETS, WeeklyReport, write_weekly
from pulse.settings import Settings, TrelloSource
from pulse.store import open_store
from tests.connectors.jira_world import jira_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("workbook")]

HAS_TRELLO = importlib.util.find_spec("pulse.connectors.trello") is not None
DATA_SHEETS = [s for s in SHEETS if s != "Summary"]


@dataclass
class Reports:
    """Two consecutive weekly workbooks written from one synced store."""

    store_path: Path
    settings: Settings
    first: WeeklyReport
    second: WeeklyReport
    out: Path
    sources: list[str]
    now: datetime  # the second report's as-of: the one clock, just after the syncs


def _trello_source(emu: Any, url: str) -> TrelloSource:
    return TrelloSource.model_validate(
        {
            "name": "design-trello",
            "kind": "trello",
            "key": SecretStr(emu.key),
            "token": SecretStr(emu.token),
            "boards": [b.name for b in emu.truth.boards.values()],
            "roadmap_boards": ["Design Roadmap"],
            "fields": {"points": "Points"},
            "url": url,
            "timeout": "10s",
            "max_retry_time": "60s",
        }
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:
    """Sync the emulators, then write last week's and this week's workbooks."""
    root = tmp_path_factory.mktemp("workbook")
    store_path = root / "pulse.db"
    out = root / "out"
    store = open_store(f"sqlite:///{store_path}")
    sources: list[Any] = []
    with jira_world("cloud", seed=11, issues=350, projects=3, plant=RISKS) as world:
        world_end = world.emu.spec.now  # both emulated worlds end here
        assert sync_source(world.source, store).ok
        sources.append(world.source)
        if HAS_TRELLO:
            from pulse.emulators.trello import TrelloEmulator, TrelloSpec

            emu = TrelloEmulator(TrelloSpec(seed=7, boards=3, cards=250, now=world_end))
            with emu.serve() as server:
                trello = _trello_source(emu, server.url)
                assert sync_source(trello, store).ok
                sources.append(trello)
    settings = Settings.model_validate(
        {
            "store": {"url": f"sqlite:///{store_path}"},
            "sources": [s.model_dump() for s in sources],
            "report": {"timezone": "Europe/Berlin", "out_dir": str(out)},
        }
    )
    now = clock.now()  # just after the syncs
    first = write_weekly(settings, store, as_of=now - timedelta(days=7), out_dir=out)
    second = write_weekly(settings, store, as_of=now, out_dir=out)
    store.dispose()
    yield Reports(store_path, settings, first, second, out, [s.name for s in sources], now)


def _values(ws: Any) -> list[Any]:
    return [c.value for row in ws.iter_rows() for c in row if c.value is not None]


def _table(ws: Any, name: str) -> pd.DataFrame:
    """An Excel table of a sheet as a frame (header row first), read through openpyxl."""
    ref = ws.tables[name].ref
    rows = [[c.value for c in row] for row in ws[ref]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_file_is_named_for_the_monday_and_sheets_are_in_order(reports: Reports) -> None:
    for report in (reports.first, reports.second):
        assert report.week.weekday() == 0
        assert report.path.name == f"pulse-weekly-{report.week.isoformat()}.xlsx"
        assert report.path.parent == reports.out.resolve()
        assert "\n" not in report.headline and report.headline
        wb = openpyxl.load_workbook(report.path)
        assert wb.sheetnames == list(SHEETS)
    assert reports.second.week - reports.first.week == timedelta(days=7)
    assert sorted(p.name for p in reports.out.iterdir()) == sorted(
        [reports.first.path.name, reports.second.path.name]
    ), "no temporary file may be left behind"


def test_tables_filters_frozen_headers_and_print_setup(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    for name in SHEETS:
        ws = wb[name]
        assert ws.freeze_panes, f"{name}: header rows must be frozen"
        if name in DATA_SHEETS:
            assert ws.tables, f"{name}: data must be in native Excel tables"
            for table in ws.tables.values():
                assert table.autoFilter is not None and table.autoFilter.ref == table.ref
                header = next(iter(ws[table.ref]))
                assert all(isinstance(c.value, str) and c.value for c in header)
    for name in ("Summary", "Roadmap"):
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert {t for ws in wb for t in ws.tables} >= {
        "Roadmap",
        "RoadmapTimelines",
        "Delivered",
        "Sprints",
        "CycleTime",
        "AgeingWIP",
        "Risks",
        "LateWork",
        "ColumnExits",
        "AgeingByColumn",
        "Trends",
        "TrackRecord",
        "Effort",
        "QualityFindings",
        "Definitions",
    }


def test_no_formula_anywhere_and_adversarial_titles_are_plain_text(reports: Reports) -> None:
    with zipfile.ZipFile(reports.second.path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = archive.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, f"formula in {name}"
    wb = openpyxl.load_workbook(reports.second.path)
    control = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    texts: set[str] = set()
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert not control.search(cell.value), f"{ws.title}!{cell.coordinate}"
                    assert len(cell.value) <= 32_767
                    texts.add(cell.value)
                    if cell.value.startswith(("=", "+", "-", "@")):
                        assert cell.data_type == "s"
                        assert cell.quotePrefix, f"{ws.title}!{cell.coordinate} not quoted"
    dangerous = [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    assert dangerous, "the emulators' adversarial titles should reach the workbook"


def test_pandas_reads_every_sheet_with_dates_typed_as_dates(reports: Reports) -> None:
    frames = pd.read_excel(reports.second.path, sheet_name=None, header=None)
    assert list(frames) == list(SHEETS)
    roadmap = pd.read_excel(reports.second.path, sheet_name="Roadmap", header=3)
    assert {"Key", "Title", "Status", "Target", "Forecast p85", "% complete"} <= set(roadmap)
    assert pd.api.types.is_datetime64_any_dtype(roadmap["Forecast p85"])
    statuses = ["done", "on track", "at risk", "off track", "no target", "no scope"]
    assert roadmap["Status"].isin(statuses).all()
    wb = openpyxl.load_workbook(reports.second.path)
    delivered = _table(wb["Timelines"], "Delivered")
    assert len(delivered) > 10
    for column in ("Created", "Committed", "Done"):
        assert all(isinstance(v, datetime) for v in delivered[column].dropna())
    done_cells = [
        c
        for c in next(iter(wb["Timelines"][wb["Timelines"].tables["Delivered"].ref]))
        if c.value == "Done"
    ]
    col = done_cells[0].column
    cell = wb["Timelines"].cell(row=done_cells[0].row + 1, column=col)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"


def test_hyperlinks_to_jira_and_trello(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    links = [
        c.hyperlink.target
        for name in ("Roadmap", "Timelines", "Flow", "Risks")
        for row in wb[name].iter_rows()
        for c in row
        if c.hyperlink is not None
    ]
    assert links and all(t.startswith(("http://", "https://")) for t in links)
    assert any("/browse/" in t for t in links), "Jira issue links"
    if HAS_TRELLO:
        assert any("trello.com/c/" in t for t in links), "Trello card links"


def test_charts_are_native(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    velocity = {type(c).__name__ for c in wb["Velocity"]._charts}
    flow = {type(c).__name__ for c in wb["Flow"]._charts}
    assert "BarChart" in velocity
    assert {"LineChart", "AreaChart"} <= flow
    assert {type(c).__name__ for c in wb["Cycle time"]._charts} == {"ScatterChart", "BarChart"}
    assert {type(c).__name__ for c in wb["Trends"]._charts} == {"LineChart", "BarChart"}
    if HAS_TRELLO:
        assert "LineChart" in velocity, "weekly throughput chart of the Kanban/Trello boards"


def test_roadmap_status_colours_and_gantt_band(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    ws = wb["Roadmap"]
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    formulas = {f for r in rules for f in (r.formula or [])}
    assert {'"on track"', '"at risk"', '"off track"', '"done"', '"no target"'} <= formulas
    header = next(iter(ws[ws.tables["Roadmap"].ref]))
    weeks = [c for c in header if re.fullmatch(r"▼?\d\d [A-Z][a-z]{2}", str(c.value))]
    assert len(weeks) >= 12, "weekly Gantt columns"
    filled = [
        ws.cell(row=r, column=c.column).fill.fgColor.rgb
        for c in weeks
        for r in range(5, ws.max_row + 1)
        if ws.cell(row=r, column=c.column).fill.fill_type == "solid"
    ]
    assert len(filled) > 20
    assert any(str(c.value).startswith("▼") for c in weeks), "this week is marked"


def test_summary_freshness_and_week_over_week(reports: Reports) -> None:
    first = openpyxl.load_workbook(reports.first.path)["Summary"]
    second = openpyxl.load_workbook(reports.second.path)["Summary"]
    first_text = " ".join(str(v) for v in _values(first))
    second_text = " ".join(str(v) for v in _values(second))
    for text in (first_text, second_text):
        for label in ("Items delivered", "Cycle time p85", "Top 5 risks", "Data freshness"):
            assert label in text
    # a sync after last week's as_of covers that day (METRICS §7): both reports are fresh
    for text, report in ((first_text, reports.first), (second_text, reports.second)):
        assert "Data may be out of date" not in text
        assert "DATA NOT FRESH" not in report.headline
        assert "never synced" not in text
        assert "data is fresh" in text
        # last week comes from the same engine a week earlier: the first report compares too
        assert "What changed since last week" in text
        # each team's forecast track record, from history alone: there from the first report
        assert "Forecast track record" in text and "p85 held " in text
    for source in reports.sources:
        assert source in second_text


def test_a_failed_last_sync_is_a_visible_warning(reports: Reports, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{_copy_store(reports, tmp_path)}")
    jira = reports.settings.sources[0]
    dead = jira.model_copy(
        update={"url": "http://127.0.0.1:9", "timeout": "1s", "max_retry_time": "1s"}
    )
    assert not sync_source(dead, store).ok
    result = write_weekly(reports.settings, store, out_dir=tmp_path / "out")
    # the questions carry the same freshness line as the workbook's headline
    line = risk(store, reports.settings, clock.now()).to_json()["freshness"]["line"]
    store.dispose()
    assert line.startswith("DATA NOT FRESH: ") and result.headline.endswith(line)
    assert f"{jira.name}: last sync failed" in result.headline
    summary = openpyxl.load_workbook(result.path)["Summary"]
    banner = str(summary["A4"].value)
    assert banner.startswith("⚠ Data may be out of date") and "cannot reach" in banner
    assert summary["A4"].fill.fgColor.rgb.endswith("C00000")
    states = [c.value for row in summary.iter_rows() for c in row if c.value == "last sync failed"]
    assert states, "the freshness table names the failed source's state"


def test_second_week_shows_what_changed_on_the_roadmap(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    roadmap = _table(wb["Roadmap"], "Roadmap")
    assert roadmap["Status last week"].notna().any()
    changes = roadmap["Change since last week"].dropna().astype(str)
    assert (changes != "no change").any(), "a week of history moves some forecast or status"
    first = _table(openpyxl.load_workbook(reports.first.path)["Roadmap"], "Roadmap")
    assert first["Status last week"].notna().any()  # derived from history, not stored reports


def test_a_rerun_in_the_same_week_still_compares_with_last_week(
    reports: Reports, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{_copy_store(reports, tmp_path)}")
    rerun = write_weekly(reports.settings, store, out_dir=tmp_path / "out")
    store.dispose()
    assert rerun.week == reports.second.week
    before = _table(openpyxl.load_workbook(reports.second.path)["Roadmap"], "Roadmap")
    after = _table(openpyxl.load_workbook(rerun.path)["Roadmap"], "Roadmap")
    columns = ["Key", "Status last week", "Change since last week"]
    assert after[columns].equals(before[columns])


def test_risks_sheet_lists_planted_risks_with_evidence(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    risks = _table(wb["Risks"], "Risks")
    assert len(risks) >= 5
    assert list(risks["Severity"]) == sorted(risks["Severity"], reverse=True)
    planted = risks[risks["Title"].astype(str).str.startswith("Planted")]
    assert len(planted) >= 4
    reasons = ",".join(planted["Reasons"].astype(str))
    for code in ("OVERDUE", "FORECAST_LATE", "STALLED", "BLOCKED"):
        assert code in reasons
    assert planted["Evidence"].astype(str).str.len().min() > 10


def test_definitions_hold_no_secrets(reports: Reports) -> None:
    wb = openpyxl.load_workbook(reports.second.path)
    text = " ".join(str(v) for v in _values(wb["Definitions"]))
    for source in reports.settings.sources:
        for secret in ("token", "key", "password"):
            value = getattr(source, secret, None)
            if isinstance(value, SecretStr):
                assert value.get_secret_value() not in text
    assert "Cycle time" in text and "Configuration used" in text


def test_a_failed_write_leaves_no_file(
    reports: Reports, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl.workbook.workbook import Workbook

    store = open_store(f"sqlite:///{_copy_store(reports, tmp_path)}")
    out = tmp_path / "out"
    out.mkdir()
    target = out / reports.second.path.name
    target.write_bytes(b"last good workbook")

    def broken_save(self: Workbook, filename: str) -> None:
        Path(filename).write_bytes(b"PK half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Workbook, "save", broken_save)
    with pytest.raises(OSError):
        write_weekly(reports.settings, store, out_dir=out)
    store.dispose()
    assert target.read_bytes() == b"last good workbook", "the old file is left untouched"
    assert [p.name for p in out.iterdir()] == [target.name], "no temporary file left"


def test_output_never_follows_a_planted_link(reports: Reports, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{_copy_store(reports, tmp_path)}")
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (out / reports.second.path.name).symlink_to(outside)
    result = write_weekly(reports.settings, store, out_dir=out)
    store.dispose()
    assert outside.read_text() == "keep"
    assert result.path.parent == out.resolve() and not result.path.is_symlink()
    openpyxl.load_workbook(result.path)


def _copy_store(reports: Reports, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.db"
    shutil.copy(reports.store_path, copy)
    return copy


def _config(reports: Reports, tmp_path: Path) -> Path:
    db = _copy_store(reports, tmp_path)
    lines = [
        f'[store]\nurl = "sqlite:///{db}"\n',
        f'[report]\ntimezone = "Europe/Berlin"\nout_dir = "{tmp_path / "default-out"}"\n',
    ]
    for source in reports.settings.sources:
        lines.append(
            f'[[sources]]\nname = "{source.name}"\nkind = "{source.kind}"\nurl = "{source.url}"\n'
        )
        if source.kind == "jira":
            lines.append(
                'user = "pm@acme.test"\ntoken = "${PULSE_TEST_TOKEN}"\nprojects = ["WEB"]\n'
            )
        else:
            lines.append('key = "${PULSE_TEST_TOKEN}"\ntoken = "${PULSE_TEST_TOKEN}"\n')
            lines.append('boards = ["Design Delivery"]\n')
    path = tmp_path / "pulse.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_cli_prints_one_line_and_writes_the_workbook(reports: Reports, tmp_path: Path) -> None:
    config = _config(reports, tmp_path)
    env = {"PULSE_TEST_TOKEN": "x"}
    out = tmp_path / "cli-out"
    result = CliRunner().invoke(
        cli, ["report", "weekly", "--config", str(config), "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert "\n" not in line
    path = Path(line.split(": ", 1)[0])
    assert path.parent == out.resolve() and path.exists()
    assert re.fullmatch(r"pulse-weekly-\d{4}-\d{2}-\d{2}\.xlsx", path.name)
    default = CliRunner().invoke(cli, ["report", "weekly", "--config", str(config)], env=env)
    assert default.exit_code == 0, default.output
    assert list((tmp_path / "default-out").glob("pulse-weekly-*.xlsx"))


@pytest.mark.parametrize(
    ("as_of", "message"),
    [("2026-02-30", "is not a date"), ("next monday", "is not a date"), ("2999-01-04", "future")],
)
def test_cli_bad_as_of_is_one_line_exit_2(
    reports: Reports, tmp_path: Path, as_of: str, message: str
) -> None:
    config = _config(reports, tmp_path)
    result = CliRunner().invoke(
        cli,
        ["report", "weekly", "--config", str(config), "--as-of", as_of],
        env={"PULSE_TEST_TOKEN": "x"},
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output


def test_cli_as_of_a_past_day_names_its_monday(reports: Reports, tmp_path: Path) -> None:
    config = _config(reports, tmp_path)
    day = reports.now.date() - timedelta(days=10)
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "weekly",
            "--config",
            str(config),
            "--as-of",
            day.isoformat(),
            "--out",
            str(tmp_path),
        ],
        env={"PULSE_TEST_TOKEN": "x"},
    )
    assert result.exit_code == 0, result.output
    monday = day - timedelta(days=day.weekday())
    assert (tmp_path / f"pulse-weekly-{monday.isoformat()}.xlsx").exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_renders_the_workbook_to_pdf(reports: Reports, tmp_path: Path) -> None:
    profile = tmp_path / "lo-profile"
    pdf_dir = tmp_path / "pdf"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(pdf_dir),
            str(reports.second.path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    pdf = pdf_dir / reports.second.path.with_suffix(".pdf").name
    assert pdf.exists(), result.stdout + result.stderr
    data = pdf.read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?![a-z])", data)
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-64:]
    assert len(pages) >= len(SHEETS), "every sheet prints at least one page"
