"""`pulse risk / forecast / show` through the CLI: formats, 80 columns, one-line errors, help."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pulse.cli.main import cli
from tests.reports.test_queries import WORLD_END, PlantedOrg, build_planted_org, day, validate


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PlantedOrg, Path]]:
    base = tmp_path_factory.mktemp("cli")
    built = build_planted_org(base / "pulse.db")
    source = built.settings.sources[0]
    config = base / "pulse.toml"
    config.write_text(
        "\n".join(
            [
                "[store]",
                f'url = "sqlite:///{built.path}"',
                "[report]",
                'timezone = "Europe/Berlin"',
                "[[sources]]",
                f'name = "{source.name}"',
                'kind = "jira"',
                f'url = "{source.url}"',
                'user = "pm@acme.test"',
                'token = "${PULSE_TEST_TOKEN}"',
                f"projects = {json.dumps(list(getattr(source, 'projects', [])))}",
            ]
        ),
        encoding="utf-8",
    )
    yield built, config
    built.store.dispose()


def run(config: Path, *args: str, width: int = 80) -> tuple[int, str, str]:
    """`pulse ARGS --config CONFIG`, without the Jira token: a question needs no credentials."""
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [*args, "--config", str(config)],
        env={"PULSE_TEST_TOKEN": None, "COLUMNS": str(width), "TERM": "dumb"},
    )
    return result.exit_code, result.stdout, result.stderr


AS_OF = WORLD_END.isoformat()  # the planted world's end, as an instant


# what a question answered from the stored analysis never imports: the engine's libraries, the
# ORM layer (the store's reads use the driver), and PostgreSQL's driver on a SQLite store
NOT_IMPORTED = ("pandas", "numpy", "sqlalchemy", "psycopg", "alembic")


@pytest.mark.parametrize(
    "question",
    [("risk",), ("risk", "--format", "json"), ("forecast", "forecast_late"), ("show", "blocked")],
)
def test_a_question_from_the_stored_analysis_imports_no_heavy_module(
    org: tuple[PlantedOrg, Path], question: tuple[str, ...]
) -> None:
    """A whole `pulse` process answering from the stored analysis: what it imported by exit."""
    built, config = org
    keys = {
        "forecast_late": built.planted["forecast_late_epic"][0],
        "blocked": built.planted["blocked_epic"][1],
    }
    args = [keys.get(a, a) for a in question] + ["--as-of", AS_OF, "--config", str(config)]
    assert run(config, *args[:-2])[0] == 0  # computes and stores the analysis when needed
    probe = (
        "import atexit, runpy, sys\n"
        f"heavy = {NOT_IMPORTED!r}\n"
        "atexit.register(lambda: print('loaded:', *[m for m in heavy if m in sys.modules],"
        " file=sys.stderr))\n"
        f"sys.argv = ['pulse', *{args!r}]\n"
        "runpy.run_module('pulse.cli', run_name='__main__')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PULSE_TEST_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "loaded:"


def test_risk_table_fits_80_columns_and_ends_with_a_summary(org: tuple[PlantedOrg, Path]) -> None:
    built, config = org
    code, out, _ = run(config, "risk", "--as-of", AS_OF)
    assert code == 0
    lines = out.rstrip("\n").split("\n")
    assert max(len(line) for line in lines) <= 80
    assert lines[-1].startswith(tuple("0123456789")) and "at risk" in lines[-1]
    assert built.planted["overdue_epic"][0] in out


def test_risk_table_shows_the_most_severe_rows_and_counts_the_rest(
    org: tuple[PlantedOrg, Path],
) -> None:
    _, config = org
    code, out, _ = run(config, "risk", "--as-of", AS_OF, "--format", "json")
    rows = json.loads(out)["rows"]
    assert code == 0 and len(rows) > 3
    assert out.count("\n") == 1  # into a pipe, JSON is one compact line
    code, out, _ = run(config, "risk", "--as-of", AS_OF, "--limit", "3")
    assert code == 0
    lines = out.rstrip("\n").split("\n")
    assert max(len(line) for line in lines) <= 80
    assert f"{len(rows) - 3:,} more rows" in out
    shown = [line.split()[0] for line in lines if line.startswith(" ") and line[1:2].strip()]
    keys = [r["key"] for r in rows]
    assert [k for k in shown if k in keys] == keys[:3], "the first column holds the top 3 keys"
    versions = [r["key"] for r in rows if r["kind"] == "version"]
    assert all(shown.count(k) <= 1 for k in versions), "a version's name is printed once"
    assert lines[-1].startswith(f"{len(rows)} at risk")


@pytest.mark.parametrize(
    "args",
    [
        ("forecast", "{forecast_late}", "--by", day(41).isoformat(), "--trials", "1000"),
        ("show", "{blocked_child}"),
        ("risk", "--epic", "{blocked_epic}"),
    ],
)
def test_tables_fit_80_columns(org: tuple[PlantedOrg, Path], args: tuple[str, ...]) -> None:
    built, config = org
    names = {
        "forecast_late": built.planted["forecast_late_epic"][0],
        "blocked_child": built.planted["blocked_epic"][1],
        "blocked_epic": built.planted["blocked_epic"][0],
    }
    code, out, err = run(config, *[a.format(**names) for a in args], "--as-of", AS_OF)
    assert code == 0, err
    lines = out.rstrip("\n").split("\n")
    assert max(len(line) for line in lines) <= 80, out
    assert lines[-1].startswith(names[args[1].strip("{}")] if "{" in args[1] else "")


def test_json_outputs_validate(org: tuple[PlantedOrg, Path]) -> None:
    built, config = org
    code, out, _ = run(config, "risk", "--as-of", AS_OF, "--format", "json")
    assert code == 0
    validate(json.loads(out), "risk")
    epic = built.planted["scope_growth"][0]
    code, out, _ = run(config, "forecast", epic, "--as-of", AS_OF, "--format", "json")
    assert code == 0
    validate(json.loads(out), "forecast")
    code, out, _ = run(config, "show", epic, "--as-of", AS_OF, "--format", "json")
    assert code == 0
    validate(json.loads(out), "show")


def test_risk_csv(org: tuple[PlantedOrg, Path]) -> None:
    built, config = org
    code, out, _ = run(config, "risk", "--as-of", AS_OF, "--format", "csv", "--reason", "BLOCKED")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all("BLOCKED" in r["reasons"].split(";") for r in rows)
    assert built.planted["blocked_epic"][0] in {r["key"] for r in rows}


def test_as_of_is_reproducible_through_the_cli(org: tuple[PlantedOrg, Path]) -> None:
    _, config = org
    first = run(config, "risk", "--as-of", day(-19).isoformat(), "--format", "json")
    again = run(config, "risk", "--as-of", day(-19).isoformat(), "--format", "json")
    assert first == again and first[0] == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("risk", "--project", "NOPE"), "unknown project 'NOPE'"),
        (("risk", "--team", "Nobody"), "unknown team 'Nobody'"),
        (("risk", "--reason", "WHATEVER"), "unknown reason code 'WHATEVER'"),
        (("risk", "--version", "0.0.0-none"), "unknown version '0.0.0-none'"),
        (("risk", "--min-severity", "extreme"), "unknown severity 'extreme'"),
        (("risk", "--due-before", "soon"), "--due-before 'soon' is not a date"),
        (("risk", "--as-of", "yesterday"), "--as-of 'yesterday' is not a date"),
        (("forecast", "NOPE-1"), "unknown key 'NOPE-1'"),
        (("forecast", "NOPE-1", "--by", "2026-13-01"), "--by '2026-13-01' is not a date"),
        (("show", "NOPE-1"), "unknown key 'NOPE-1'"),
    ],
)
def test_unknown_values_give_one_line_and_exit_2(
    org: tuple[PlantedOrg, Path], args: tuple[str, ...], needle: str
) -> None:
    _, config = org
    code, out, err = run(config, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err and err.startswith("pulse: error: ")


def _commands(group: click.Group, prefix: str = "pulse") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")


def test_every_command_has_examples_in_its_help() -> None:
    runner = CliRunner()
    missing = []
    for path, _command in _commands(cli):
        result = runner.invoke(cli, [*path.split()[1:], "--help"])
        if result.exit_code != 0 or "Examples:" not in result.output:
            missing.append(path)
    assert not missing, f"commands without an Examples: block in --help: {missing}"
