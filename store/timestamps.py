"""The one timestamp codec: every instant the store keeps or hands back is aware UTC.

The store refuses naive datetimes (they would be read back in the wrong zone), keeps UTC, and
gives back aware UTC on every backend; cursors keep instants as ISO 8601 text in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def to_utc(value: datetime) -> datetime:
    """An aware instant as UTC; a naive one is refused (its zone would be a guess)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} given to the store; use aware UTC")
    return value.astimezone(UTC)


def from_stored(value: datetime | str) -> datetime:
    """A stored instant as aware UTC: SQLite gives it back naive (meaning UTC), or, read through
    its driver without SQLAlchemy, as the text SQLAlchemy stored (:func:`sqlite_text`)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def sqlite_text(value: datetime | None) -> str | None:
    """An instant in the exact text form SQLAlchemy's SQLite DATETIME stores (naive UTC)."""
    if value is None:
        return None
    return to_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def frame_instant(value: Any) -> datetime | None:
    """A pandas/numpy timestamp as an aware UTC datetime at the store's precision
    (microseconds); None for NaT. A naive timestamp is refused."""
    import pandas as pd  # only frame writers need pandas

    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise ValueError(f"naive timestamp {stamp!r} in a frame; use UTC")
    return to_utc(stamp.floor("us").to_pydatetime())


def to_text(value: datetime) -> str:
    """An instant as ISO 8601 text in UTC, as cursors keep it."""
    return to_utc(value).isoformat()


def from_text(value: str | None) -> datetime | None:
    """An instant kept as ISO 8601 text (None when absent)."""
    return datetime.fromisoformat(value) if value else None
