"""The normalized store: schema, migrations, and every read and write of it.

Callers outside ``store`` hold a :class:`Connection` for a consistent read and pass it to the
store's functions; they never build SQL themselves. Importing this package does not import
SQLAlchemy (a question answered from the stored analysis never needs it): ``Connection`` and
``Transaction`` are SQLAlchemy's, resolved on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulse.store.engine import Store, StoreError, open_store

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from pulse.store.engine import Transaction


def __getattr__(name: str) -> Any:
    """SQLAlchemy's ``Connection`` (also as ``Transaction``), imported when first asked for."""
    if name in ("Connection", "Transaction"):
        from sqlalchemy import Connection

        return Connection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Connection", "Store", "StoreError", "Transaction", "open_store"]
