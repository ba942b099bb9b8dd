"""The one way to split a long `IN (...)` list (databases cap a statement's parameters) or a
large batch of rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
IN_CHUNK = 500  # values per IN (...) clause: well under SQLite's and psycopg's limits


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """Consecutive slices of at most `size` values, in order."""
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield chunk if isinstance(chunk, list) else list(chunk)
