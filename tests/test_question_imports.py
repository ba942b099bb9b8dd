"""The questions' start-up stays light: `pulse risk`, `forecast` and `show` answer from the
stored analysis without importing the engine's heavy libraries, SQLAlchemy (the store's reads
run on the database driver) or PostgreSQL's driver (on a SQLite store). What a whole process
answering a question imports is checked in tests/test_query_cli.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = (
    "pandas",
    "numpy",
    "openpyxl",
    "apscheduler",
    "jira",
    "trello",
    "sqlalchemy",
    "alembic",
    "psycopg",
)


@pytest.mark.parametrize(
    "module",
    ["pulse.reports.queries.risk", "pulse.reports.queries.show", "pulse.reports.queries.forecast"],
)
def test_a_question_imports_no_heavy_library(module: str) -> None:
    code = (
        f"import sys, cli.main, cli.query_commands, {module}\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_help_lists_every_command_without_importing_heavy_libraries() -> None:
    """`pulse --help` imports each command's module to read its help: none of them may load
    the store's SQLAlchemy tables or the engine at import."""
    probe = (
        "import atexit, runpy, sys\n"
        f"heavy = {HEAVY!r}\n"
        "atexit.register(lambda: print('loaded:', *[m for m in heavy if m in sys.modules],"
        " file=sys.stderr))\n"
        "sys.argv = ['pulse', '--help']\n"
        "runpy.run_module('pulse.cli', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "export" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "loaded:"
