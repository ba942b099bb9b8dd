"""What the forecast replay (METRICS §4, calibration) tells a director: per team how often the
p50 and p85 dates held, how many roadmap items were off track each Monday, and since when an
item has been off track.

All three read one frame, the replay's ``forecast_history``: one row per (past Monday of the
last 26 weeks, roadmap item open then) with the forecast and health status it had that Monday
and whether its p50/p85 held (NA while the outcome is unknown).
"""

from __future__ import annotations

import pandas as pd

HISTORY_COLUMNS: dict[str, str] = {
    "as_of": "datetime64[ns, UTC]",  # the Monday the forecast was made (local midnight, as UTC)
    "source": "object",
    "key": "object",
    "kind": "object",
    "team": "object",
    "target": "datetime64[ns, UTC]",
    "p50": "datetime64[ns, UTC]",
    "p85": "datetime64[ns, UTC]",
    "status": "object",  # health status that Monday: on track / at risk / off track / ...
    "done_at": "datetime64[ns, UTC]",
    "p50_held": "boolean",
    "p85_held": "boolean",
}
OFF_TRACK = "off track"
RECORD_WEEKS = 26


def empty_forecast_history() -> pd.DataFrame:
    """The replay's frame with no rows, typed as the replay types it."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in HISTORY_COLUMNS.items()})


def track_record(history: pd.DataFrame) -> pd.DataFrame:
    """Per team: forecasts whose p50 (p85) outcome is known, and the share that held."""
    rows = []
    for team, part in history.groupby("team", sort=True):
        rec: dict[str, object] = {"team": str(team)}
        for q in ("p50", "p85"):
            known = part[f"{q}_held"].dropna().astype(bool)
            rec[f"{q}_count"] = len(known)
            rec[f"{q}_held"] = float(known.mean()) if len(known) else float("nan")
        rows.append(rec)
    return pd.DataFrame(rows, columns=["team", "p50_count", "p50_held", "p85_count", "p85_held"])


def off_track_counts(history: pd.DataFrame) -> pd.Series:
    """Roadmap items off track on each replayed Monday (UTC instant -> count; 0 when none)."""
    off = (history["status"] == OFF_TRACK).astype("int64")
    return off.groupby(history["as_of"]).sum().sort_index()


def off_track_since(history: pd.DataFrame) -> pd.DataFrame:
    """Per roadmap item off track on the last replayed Monday: the first Monday of that
    unbroken off-track run (source, key, since)."""
    if history.empty:
        return pd.DataFrame(
            {"source": [], "key": [], "since": pd.Series(dtype=HISTORY_COLUMNS["as_of"])}
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
