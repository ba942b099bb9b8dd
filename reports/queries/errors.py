"""The one error a query raises for a bad question: an unknown key or filter value."""

from __future__ import annotations

from collections.abc import Iterable


class QueryError(ValueError):
    """The question names something the store does not know (at as_of); one line, no trace."""


def unknown(what: str, value: str, known: Iterable[str], limit: int = 8) -> QueryError:
    """'unknown project 'XYZ' (known: API, MOB, WEB)' with at most ``limit`` suggestions."""
    names = sorted({str(k) for k in known})
    if not names:
        return QueryError(f"unknown {what} {value!r} (the store has none)")
    shown = ", ".join(names[:limit]) + (
        f", … {len(names) - limit} more" if len(names) > limit else ""
    )
    return QueryError(f"unknown {what} {value!r} (known: {shown})")
