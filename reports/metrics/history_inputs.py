"""Add the stored roadmap history (baselines, snapshots) to a dataset loaded from the store.

Kept out of the package's public imports: the rest of the engine never touches the store.
"""

from __future__ import annotations

import dataclasses

from reports.dataset import Dataset
from store import Store
from store.snapshots import load_baselines, load_snapshots, previous_snapshot


def with_history(dataset: Dataset, store: Store) -> Dataset:
    """The dataset with the baselines, previous snapshot and all past snapshots known at its
    as_of, so ``compute_all`` can flag scope growth, diff against last week and calibrate."""
    as_of = dataset.as_of
    past = load_snapshots(store, before=as_of)
    inputs = dataclasses.replace(
        dataset.inputs,
        baselines=load_baselines(store, as_of=as_of),
        previous_snapshot=previous_snapshot(store, before=as_of),
        past_snapshots=past if len(past) else None,
    )
    return dataclasses.replace(dataset, inputs=inputs)
