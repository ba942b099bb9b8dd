"""The store's small helpers for the reports: the URL the workbook shows, and IN-list chunks."""

from __future__ import annotations

from pulse.store.chunks import chunked
from pulse.store.engine import public_url


def test_the_shown_store_url_has_no_user_or_password() -> None:
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
