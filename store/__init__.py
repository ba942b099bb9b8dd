"""The normalized store: schema, migrations, and every read and write of it.

Callers outside ``store`` hold a :class:`Connection` for a consistent read and pass it to the
store's functions; they never build SQL themselves.
"""

from sqlalchemy import Connection

from pulse.store.engine import Store, StoreError, Transaction, open_store

__all__ = ["Connection", "Store", "StoreError", "Transaction", "open_store"]
