"""Safe cell writing, tables and the report's frame of time, without a store (fast).

PITFALLS: a title like `=HYPERLINK(...)` must never become a formula, control characters must be
stripped, text is cut at Excel's 32,767-character limit, and the file must stay in its directory.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from pulse.emulators.jira.text import ADVERSARIAL
from pulse.reports.workbook import ReportError
from pulse.reports.workbook.cells import MAX_CELL, clean_text, put_text, safe_url
from pulse.reports.workbook.tables import Col, write_table
from pulse.reports.workbook.weekly import report_path, report_week, resolve_as_of
from pulse.safetext import one_line

NOW = pd.Timestamp("2026-11-25 10:00", tz="UTC")  # a Wednesday
TZ = "Europe/Berlin"


def test_clean_text_strips_controls_and_cuts_with_an_ellipsis() -> None:
    assert clean_text("Control\x07chars\x1b[31m and \x0bvertical tab") == (
        "Controlchars[31m and vertical tab"
    )
    assert clean_text("a\r\nb\rc\td") == "a\nb\nc\td"
    assert clean_text("lone \ud800 surrogate \x85") == "lone  surrogate "
    assert clean_text(None) == "" and clean_text(float("nan")) == ""
    long = clean_text("x" * 40_000)
    assert len(long) == MAX_CELL and long.endswith("…")
    assert clean_text("y" * MAX_CELL) == "y" * MAX_CELL
    assert one_line("two\nlines\x00 here", 8) == "two lin…"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://acme.atlassian.net/browse/WEB-1", True),
        ("http://127.0.0.1:8080/browse/WEB-1", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("https://a b", False),
        ("https://x/\x00", False),
        ("https://x/" + "a" * 3000, False),
        (None, False),
    ],
)
def test_only_plain_http_links(url: str | None, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok


def test_adversarial_text_round_trips_as_text(tmp_path: Path) -> None:
    titles = [*ADVERSARIAL, "=1+1", "=cmd|' /C calc'!A0", "-1", "@x", "x" * 40_000, None]
    frame = pd.DataFrame(
        {
            "key": [f"K-{i}" for i in range(len(titles))],
            "title": titles,
            "url": ["javascript:alert(1)"] + ["https://acme.test/browse/K"] * (len(titles) - 1),
            "day": pd.to_datetime(["2026-11-02"] * len(titles)),
        }
    )
    wb = Workbook()
    ws = wb.active
    put_text(ws, 1, 1, '=HYPERLINK("http://evil.test","x")')
    columns = [
        Col("Key", "key", url="url"),
        Col("Title", "title", "wrap"),
        Col("Day", "day", "date"),
    ]
    placed = write_table(ws, 3, 1, "Adversarial", columns, frame)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml
    back = openpyxl.load_workbook(path).active
    assert back["A1"].value.startswith("=HYPERLINK(") and back["A1"].data_type == "s"
    for i, title in enumerate(titles):
        cell = back.cell(row=placed.first_row + i, column=2)
        assert cell.data_type != "f"
        assert (cell.value or "") == clean_text(title).strip("\n") or title is None
        if cell.value and cell.value.startswith(("=", "+", "-", "@")):
            assert cell.quotePrefix
    assert back.cell(row=placed.first_row, column=1).hyperlink is None, "javascript: not linked"
    assert back.cell(row=placed.first_row + 1, column=1).hyperlink.target.startswith("https://")
    day = back.cell(row=placed.first_row, column=3)
    assert day.is_date and day.number_format == "yyyy-mm-dd"
    read = pd.read_excel(path, header=2, keep_default_na=False)
    assert read["Title"].iloc[0] == clean_text(ADVERSARIAL[0])
    assert pd.api.types.is_datetime64_any_dtype(read["Day"])


def test_an_empty_frame_still_makes_a_valid_table(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    frame = pd.DataFrame({"key": pd.Series([], dtype=object)})
    placed = write_table(ws, 1, 1, "Empty", [Col("Key", "key")], frame, empty="Nothing.")
    assert placed.empty and placed.ref() == "A1:A2"
    wb.save(tmp_path / "e.xlsx")
    back = openpyxl.load_workbook(tmp_path / "e.xlsx").active
    assert back["A2"].value == "Nothing." and back.tables["Empty"].ref == "A1:A2"


def test_as_of_and_week() -> None:
    assert resolve_as_of(None, TZ, now=NOW) == NOW
    # today: now; an earlier day: the end of that day in the report zone
    assert resolve_as_of(date(2026, 11, 25), TZ, now=NOW) == NOW
    end = resolve_as_of(date(2026, 11, 16), TZ, now=NOW)
    assert end.tz_convert(TZ).strftime("%Y-%m-%d %H:%M") == "2026-11-16 23:59"
    with pytest.raises(ReportError, match="future"):
        resolve_as_of(date(2026, 11, 26), TZ, now=NOW)
    naive = resolve_as_of(datetime(2026, 11, 23, 7, 0), TZ, now=NOW)
    assert naive == pd.Timestamp("2026-11-23 06:00", tz="UTC")
    aware = resolve_as_of(datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("UTC")), TZ, now=NOW)
    assert aware == pd.Timestamp("2026-11-23 07:00", tz="UTC")
    assert report_week(NOW, TZ) == date(2026, 11, 23)
    # Sunday 23:30 UTC is already Monday in Berlin: the week is that Monday's
    assert report_week(pd.Timestamp("2026-11-22 23:30", tz="UTC"), TZ) == date(2026, 11, 23)
    assert report_week(pd.Timestamp("2026-11-22 23:30", tz="UTC"), "UTC") == date(2026, 11, 16)


def test_report_path_stays_in_the_output_directory(tmp_path: Path) -> None:
    path = report_path(tmp_path / "a" / ".." / "out", date(2026, 11, 23))
    assert path == (tmp_path / "out").resolve() / "pulse-weekly-2026-11-23.xlsx"


def test_an_empty_store_is_one_line_exit_1(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pulse.cli.main import cli

    config = tmp_path / "pulse.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "p.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["report", "weekly", "--config", str(config), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "run `pulse sync` first" in result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_long_lists_are_capped_with_a_count() -> None:
    from pulse.reports.workbook.tables import capped

    frame = pd.DataFrame({"k": range(10)})
    shown, hidden = capped(frame, 4)
    assert list(shown["k"]) == [0, 1, 2, 3] and hidden == 6
    assert capped(frame, 10)[1] == 0
