"""The store's small helpers: the URL the workbook shows, store URLs read without SQLAlchemy,
plain SQL's parameters, and IN-list chunks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import URL, make_url

from pulse.store.chunks import chunked
from pulse.store.sql import backend, driver_sql, libpq_url, public_url, sqlite_database

URLS = [
    "postgresql+psycopg://user:pass@host:5432/db?sslmode=require",
    "postgresql+psycopg://pulse:p%40ss%3Aw0rd@db.example/pulse",
    "postgresql://db/pulse?sslmode=require",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "sqlite:///relative.db",
    "sqlite:////abs/path.db",
]


@pytest.mark.parametrize("url", URLS)
def test_store_urls_read_without_sqlalchemy_as_sqlalchemy_reads_them(url: str) -> None:
    parsed = make_url(url)
    assert backend(url) == parsed.get_backend_name()
    shown = URL.create(
        parsed.drivername,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    assert public_url(url) == shown.render_as_string()
    if backend(url) == "sqlite":
        assert sqlite_database(url) == parsed.database
    else:  # libpq reads the same parts from the URI psycopg is given
        assert make_url(libpq_url(url)).set(drivername=parsed.drivername) == parsed


def test_a_sqlite_path_is_decoded_as_sqlalchemy_decodes_it() -> None:
    url = "sqlite:///dir%20with%20space/pulse.db"
    assert sqlite_database(url) == make_url(url).database == "dir with space/pulse.db"


def test_plain_sql_binds_lists_instants_and_percent_signs_per_driver() -> None:
    sql = "SELECT 1 FROM t WHERE k IN (:keys) AND at < :at AND note LIKE '%x'"
    at = datetime(2026, 6, 1, 8, tzinfo=UTC)
    lite, values = driver_sql(sql, {"keys": ["A", "B"], "at": at}, "sqlite")
    assert lite == "SELECT 1 FROM t WHERE k IN (:keys_0, :keys_1) AND at < :at AND note LIKE '%x'"
    assert values == {"keys_0": "A", "keys_1": "B", "at": "2026-06-01 08:00:00.000000"}
    pg, values = driver_sql(sql, {"keys": ["A"], "at": at}, "postgresql")
    assert pg == "SELECT 1 FROM t WHERE k IN (%(keys_0)s) AND at < %(at)s AND note LIKE '%%x'"
    assert values == {"keys_0": "A", "at": at}


def test_the_shown_url_has_no_user_or_password() -> None:
    shown = public_url("postgresql+psycopg://pulse:s3cret@db.example:5432/pulse")
    assert shown == "postgresql+psycopg://db.example:5432/pulse"
    assert public_url("sqlite:////srv/pulse/pulse.db") == "sqlite:////srv/pulse/pulse.db"
    assert (
        public_url("postgresql://db/pulse?sslmode=require")
        == "postgresql://db/pulse?sslmode=require"
    )


def test_chunks_cover_every_value_once_in_order_within_the_size() -> None:
    values = [str(i) for i in range(1203)]
    parts = list(chunked(values, size=500))
    assert [len(p) for p in parts] == [500, 500, 203]
    assert [v for p in parts for v in p] == values
    assert list(chunked([], size=500)) == []
    assert (
        public_url("https://bot:tok@jira.example.com/jira?x=1")
        == "https://jira.example.com/jira?x=1"
    )
