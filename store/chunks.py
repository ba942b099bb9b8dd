"""Long ``IN (...)`` lists split into chunks, so no statement exceeds a driver's parameter limit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

CHUNK = 500  # values per IN (...) clause


def chunked(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``values``, each of at most ``size`` values, in order."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


__all__ = ["CHUNK", "chunked"]
