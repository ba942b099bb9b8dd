"""The normalized store: schema, migrations, and the writes a sync makes."""

from pulse.store.engine import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
