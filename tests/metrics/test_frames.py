"""Frame contracts: builders produce valid frames, validators catch contract breaks."""

from __future__ import annotations

import pandas as pd
import pytest

from pulse.reports.metrics import frames as F

from .factories import item, items


@pytest.mark.parametrize(
    "spec",
    [
        F.ITEMS,
        F.TRANSITIONS,
        F.CHANGES,
        F.SPRINTS,
        F.ITEM_SPRINTS,
        F.BOARDS,
        F.VERSIONS,
        F.ITEM_VERSIONS,
        F.LINKS,
        F.SYNC_RUNS,
        F.BASELINES,
        F.SNAPSHOT,
    ],
)
def test_empty_frames_honour_their_contract(spec):
    frame = F.empty_frame(spec)
    assert list(frame.columns) == spec.names
    F.validate(frame, spec)


def test_items_builder_gives_utc_datetimes_and_bools():
    frame = items(item("1", "2026-03-01 09:00"))
    assert str(frame["created"].dt.tz) == "UTC"
    assert frame["is_subtask"].dtype == bool
    assert frame["deleted_at"].isna().all()


def test_missing_column_is_named():
    frame = items(item("1", "2026-03-01 09:00")).drop(columns="team")
    with pytest.raises(F.FrameError, match="missing columns \\['team'\\]"):
        F.validate_items(frame)


def test_naive_datetimes_are_refused():
    frame = items(item("1", "2026-03-01 09:00"))
    frame["created"] = frame["created"].dt.tz_localize(None)
    with pytest.raises(F.FrameError, match=r"created.*UTC"):
        F.validate_items(frame)


def test_non_utc_zone_is_refused():
    frame = items(item("1", "2026-03-01 09:00"))
    frame["created"] = frame["created"].dt.tz_convert("Europe/Berlin")
    with pytest.raises(F.FrameError):
        F.validate_items(frame)


def test_missing_keys_are_refused():
    frame = items(item("1", "2026-03-01 09:00"))
    frame.loc[0, "item_id"] = None
    with pytest.raises(F.FrameError, match=r"item_id.*missing"):
        F.validate_items(frame)


def test_wrong_bool_dtype():
    frame = items(item("1", "2026-03-01 09:00"))
    frame["is_subtask"] = frame["is_subtask"].astype(object)
    with pytest.raises(F.FrameError, match="is_subtask"):
        F.validate_items(frame)


def test_object_and_string_dtypes_both_pass():
    frame = items(item("1", "2026-03-01 09:00"))
    F.validate_items(frame.astype({"key": object}))
    F.validate_items(frame.astype({"key": "string"}))
    assert isinstance(F.validate_items(frame), pd.DataFrame)
