"""Bad input through the real `pulse`: one line naming the problem, non-zero exit, no traceback,
nothing lost, nothing created."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jira import JIRAError

from pulse import clock
from pulse.cli.demo_commands import DEMO_MARKER
from pulse.connectors.jira.client import describe_error
from pulse.settings import JiraSource
from pulse.store import open_store
from pulse.store.status import data_span
from tests.cli_harness import Demo, assert_one_line_error, make_demo, run, tree, unwritable

ZONE = ZoneInfo("Europe/Berlin")  # the demo config's report zone


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("bad-input") / "demo")


@pytest.fixture
def mine(demo: Demo, tmp_path: Path) -> Demo:
    """A copy of the demo store this test may lock, damage or change."""
    return demo.copy(tmp_path / "copy")


# -- data loss and wrong answers ------------------------------------------------------------


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pulse.db").write_bytes(b"the team's real store")
    (project / "notes.md").write_text("keep me", encoding="utf-8")
    before = tree(tmp_path)
    line = assert_one_line_error(run("demo", "--scale", "small", "--dir", str(project)), 1)
    assert str(project) in line and "not made by `pulse demo`" in line
    assert tree(tmp_path) == before


def test_demo_replaces_only_its_own_directory(demo: Demo) -> None:
    assert (demo.root / DEMO_MARKER).is_file()
    done = run("demo", "--scale", "small", "--dir", str(demo.root), timeout=300)
    assert done.returncode == 0, done.stderr
    assert (demo.root / DEMO_MARKER).is_file() and demo.store.is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("risk",),
        ("show", "API-1"),
        ("forecast", "API-1"),
        ("status",),
        ("export", "items"),
        ("export", "flow"),
        ("report", "weekly"),
    ],
)
def test_commands_that_read_refuse_a_store_that_does_not_exist(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    typo = tmp_path / "stroe" / "pulse.db"
    config = tmp_path / "pulse.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{typo}"\n[report]\nout_dir = "{tmp_path / "out"}"\n',
        encoding="utf-8",
    )
    before = tree(tmp_path)
    line = assert_one_line_error(run(*args, "--config", str(config)), 1)
    assert f"no store at {typo}" in line and "pulse sync" in line
    assert tree(tmp_path) == before, "nothing may be created"


def test_an_empty_database_file_is_no_store(tmp_path: Path) -> None:
    (tmp_path / "pulse.db").touch()
    config = tmp_path / "pulse.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "pulse.db"}"\n', encoding="utf-8")
    before = tree(tmp_path)
    line = assert_one_line_error(run("risk", "--config", str(config)), 1)
    assert "no store at" in line
    assert tree(tmp_path) == before


def _span(demo: Demo) -> tuple[object, object]:
    store = open_store(f"sqlite:///{demo.store}", create=False)
    try:
        return data_span(store)
    finally:
        store.dispose()


def test_as_of_outside_the_data_is_refused_with_what_the_data_covers(demo: Demo) -> None:
    first, last = _span(demo)
    assert first is not None and last is not None
    before = tree(demo.root)
    early = (first.astimezone(ZONE) - timedelta(days=30)).date().isoformat()  # type: ignore[attr-defined]
    line = assert_one_line_error(run("risk", "--as-of", early, "--config", str(demo.config)), 2)
    assert early in line and "before the store's first item" in line
    future = (clock.now().astimezone(ZONE) + timedelta(days=3)).date().isoformat()
    line = assert_one_line_error(run("show", "API-1", "--as-of", future, "-c", str(demo.config)), 2)
    assert future in line and "in the future" in line
    # ten days after the last sync, a day in between is in the past but after the data
    later = {"PULSE_CLOCK_SHIFT_DAYS": str(clock.shift().days + 10)}
    gap = (last.astimezone(ZONE) + timedelta(days=3)).date().isoformat()  # type: ignore[attr-defined]
    done = run("risk", "--as-of", gap, "--config", str(demo.config), env=later)
    line = assert_one_line_error(done, 2)
    assert gap in line and "after the store's data" in line and "last sync" in line
    assert tree(demo.root) == before


def test_an_answer_long_after_the_last_sync_says_where_the_data_ends(demo: Demo) -> None:
    later = {"PULSE_CLOCK_SHIFT_DAYS": str(clock.shift().days + 10)}
    done = run("risk", "--config", str(demo.config), env=later)
    assert done.returncode == 0, done.stderr
    note = done.stderr.strip()
    assert note.startswith("pulse: note: the store's data ends at the last sync")
    assert "\n" not in note
    assert "10 days ago" in note
    fresh = run("risk", "--config", str(demo.config))
    assert fresh.returncode == 0 and fresh.stderr == ""


def test_forecast_by_a_past_date_is_refused(demo: Demo) -> None:
    past = (clock.now().astimezone(ZONE) - timedelta(days=3)).date().isoformat()
    line = assert_one_line_error(
        run("forecast", "API-1", "--by", past, "--config", str(demo.config)), 2
    )
    assert f"--by {past} is before the as-of date" in line


# -- tracebacks that are one line -----------------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_store_is_one_line(mine: Demo, damage: str) -> None:
    data = mine.store.read_bytes()
    mine.store.write_bytes(os.urandom(8192) if damage == "garbage" else data[: len(data) // 3])
    before = tree(mine.root)
    for args in (("risk",), ("status",), ("export", "items")):
        line = assert_one_line_error(run(*args, "--config", str(mine.config)), 1)
        assert str(mine.store) in line
    assert tree(mine.root) == before


def test_a_read_only_store_is_read_read_only(mine: Demo) -> None:
    before = tree(mine.root)
    with unwritable(mine.store, mine.root):
        done = run("risk", "--config", str(mine.config))
        assert done.returncode == 0, done.stderr
        assert "at risk" in done.stdout.splitlines()[-1]
        assert run("show", "api-1", "--config", str(mine.config)).returncode == 0
        line = assert_one_line_error(run("report", "weekly", "--config", str(mine.config)), 1)
        assert "read-only" in line
    assert tree(mine.root) == before


def test_export_into_a_locked_directory_is_one_line(demo: Demo, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked):
        for target in (locked / "items.csv", locked / "sub" / "items.csv"):
            done = run("export", "items", "--out", str(target), "--config", str(demo.config))
            line = assert_one_line_error(done, 1)
            assert str(target) in line
    assert list(locked.iterdir()) == []


def test_export_never_replaces_a_device_or_fifo(demo: Demo, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    line = assert_one_line_error(
        run("export", "items", "--out", str(fifo), "--config", str(demo.config)), 1
    )
    assert "not a regular file" in line
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_directory_as_config_is_one_line(tmp_path: Path) -> None:
    line = assert_one_line_error(run("report", "weekly", "--config", str(tmp_path)), 2)
    assert f"{tmp_path}: is a directory" in line


def test_trials_are_bounded(demo: Demo) -> None:
    done = run("forecast", "API-1", "--trials", "100000000", "--config", str(demo.config))
    line = assert_one_line_error(done, 2)
    assert "--trials 100,000,000 is too many" in line


def test_usage_errors_are_one_line(demo: Demo) -> None:
    line = assert_one_line_error(run("forecast", "API-1", "--trials", "many"), 2)
    assert "'many'" in line and "pulse forecast --help" in line


@pytest.mark.parametrize("text", ["", "   ", "\n\n", None, "\x1b[2J\nsecond line"])
def test_describe_error_with_a_blank_or_hostile_message_is_one_line(text: str | None) -> None:
    source = JiraSource.model_validate(
        {"name": "acme", "kind": "jira", "url": "https://x.test", "user": "u", "token": "t"}
        | {"projects": ["A"]}
    )
    message = str(describe_error(source, JIRAError(status_code=500, text=text)))
    assert message.startswith("acme: Jira answered HTTP 500: ")
    assert "\n" not in message and "\x1b" not in message


def test_status_with_a_trello_source_fits_80_columns(demo: Demo) -> None:
    done = run("status", "--config", str(demo.config))
    assert done.returncode == 0, done.stderr
    assert "design-trello" in done.stdout and "Traceback" not in done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80


# -- security hygiene ----------------------------------------------------------------------


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pulse.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "pulse.db"}"\n{body}', "utf-8")
    return path


def test_a_password_in_a_source_url_is_refused(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        '[[sources]]\nname = "j"\nkind = "jira"\nurl = "http://pm:S3cret@jira.acme.test"\n'
        'user = "pm"\ntoken = "${T}"\nprojects = ["A"]\n',
    )
    line = assert_one_line_error(run("status", "--config", str(config), env={"T": "x"}), 2)
    assert "sources[0].url" in line and "must not hold a user or password" in line
    assert "S3cret" not in line
    assert not (tmp_path / "pulse.db").exists()


def test_smtp_auth_in_clear_text_is_refused(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        '[schedule]\nsmtp_host = "mail.acme.test"\nsmtp_security = "none"\n'
        'smtp_from = "p@acme.test"\nsmtp_to = ["l@acme.test"]\nsmtp_user = "p"\n'
        'smtp_password = "${PW}"\n',
    )
    line = assert_one_line_error(run("status", "--config", str(config), env={"PW": "x"}), 2)
    assert 'smtp_security = "none"' in line and "clear text" in line


def test_the_workbook_is_private(mine: Demo, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    done = run("report", "weekly", "--out", str(out), "--config", str(mine.config))
    assert done.returncode == 0, done.stderr
    (workbook,) = out.glob("*.xlsx")
    assert stat.S_IMODE(workbook.stat().st_mode) == 0o600


# -- ergonomics ----------------------------------------------------------------------------


def test_global_config_works_like_the_commands_own(demo: Demo) -> None:
    done = run("--config", str(demo.config), "status", env={"PULSE_CONFIG": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("items")


def test_a_value_error_names_the_value(tmp_path: Path) -> None:
    config = _config(tmp_path, '[[sources]]\nname = "j"\nkind = "jiraa"\n')
    line = assert_one_line_error(run("status", "--config", str(config)), 2)
    assert 'kind must be "jira" or "trello", not "jiraa"' in line


def test_keys_and_teams_ignore_case(demo: Demo) -> None:
    upper = run("show", "API-1", "--format", "json", "--config", str(demo.config))
    lower = run("show", "api-1", "--format", "json", "--config", str(demo.config))
    assert upper.returncode == lower.returncode == 0, lower.stderr
    answers = [json.loads(done.stdout) for done in (upper, lower)]
    for answer in answers:
        answer.pop("as_of")
    assert answers[0] == answers[1] and answers[0]["key"] == "API-1"
    teams = run("risk", "--team", "design", "--format", "json", "--config", str(demo.config))
    assert teams.returncode == 0, teams.stderr
    assert '"team": "Design"' in teams.stdout


def test_compact_risk_is_one_line_per_item_within_80_columns(demo: Demo) -> None:
    done = run("risk", "--compact", "--limit", "7", "--config", str(demo.config))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if re.match(r"(high|medium|low) ", line)]
    assert len(rows) == 7


def test_a_question_shows_a_spinner_on_a_terminal_only(demo: Demo) -> None:
    import pty
    import subprocess

    from tests.cli_harness import PULSE

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_DEMO_")}
    env.update({"PULSE_NO_ANSWER_SERVER": "1", "TERM": "xterm"})
    with subprocess.Popen(
        [*PULSE, "risk", "--format", "json", "--config", str(demo.config)],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    ) as child:
        os.close(follower)
        out, _ = child.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert child.returncode == 0
    assert "answering" in seen.decode("utf-8", "replace")
    assert json.loads(out)["rows"], "stdout stays the plain answer"
    piped = run("risk", "--format", "json", "--config", str(demo.config))
    assert "answering" not in piped.stderr
