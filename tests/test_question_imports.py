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
