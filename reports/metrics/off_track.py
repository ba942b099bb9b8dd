"""What the forecast replay (METRICS §4, :mod:`.track_record`) tells a director besides the
hit rates: how many roadmap items were off track each Monday, and since when an item has been
off track. Both read the replay's ``forecast_history`` (one row per past Monday and roadmap item
open then, with the health status it had that Monday).
"""

from __future__ import annotations

import pandas as pd

OFF_TRACK = "off track"


def off_track_counts(history: pd.DataFrame) -> pd.Series:
    """Roadmap items off track on each replayed Monday (UTC instant -> count; 0 when none)."""
    off = (history["status"] == OFF_TRACK).astype("int64")
    return off.groupby(history["as_of"]).sum().sort_index()


def off_track_since(history: pd.DataFrame) -> pd.DataFrame:
    """Per roadmap item off track on the last replayed Monday: the first Monday of that
    unbroken off-track run (source, key, since)."""
    if history.empty:
        return pd.DataFrame(
            {"source": [], "key": [], "since": pd.Series(dtype="datetime64[ns, UTC]")}
        )
    mondays = sorted(history["as_of"].unique())
    last = mondays[-1]
    rows = []
    ordered = history.sort_values("as_of")
    for (source, key), part in ordered.groupby(["source", "key"], sort=True):
        status = dict(zip(part["as_of"], part["status"], strict=True))
        if status.get(last) != OFF_TRACK:
            continue
        since = last
        for monday in reversed(mondays[:-1]):
            if status.get(monday) != OFF_TRACK:
                break
            since = monday
        rows.append({"source": str(source), "key": str(key), "since": since})
    out = pd.DataFrame(rows, columns=["source", "key", "since"])
    out["since"] = pd.to_datetime(out["since"], utc=True)
    return out
