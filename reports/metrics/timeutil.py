"""Time helpers: UTC instants in, calendar days of the report time zone out."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400_000_000_000


def as_utc(ts: Any, what: str = "as_of") -> pd.Timestamp:
    """A tz-aware timestamp converted to UTC; naive input is refused to avoid silent shifts."""
    out = pd.Timestamp(ts)
    if out.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {out!r}")
    return out.tz_convert("UTC").as_unit("ns")


def check_tz(tz: str) -> str:
    """Validate an IANA time-zone name (raises on unknown names)."""
    ZoneInfo(tz)
    return tz


def utc_ns(values: pd.Series) -> pd.Series:
    """A UTC datetime series at nanosecond resolution (pandas 3 may hand us microseconds)."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = pd.to_datetime(values, utc=True)
    return values.dt.tz_convert("UTC").dt.as_unit("ns")


def local_days(values: pd.Series, tz: str) -> pd.Series:
    """UTC instants -> tz-naive midnight of their calendar day in ``tz`` (NaT stays NaT)."""
    values = utc_ns(values)
    return values.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def local_day(ts: Any, tz: str) -> pd.Timestamp:
    """One UTC instant -> tz-naive midnight of its calendar day in ``tz``."""
    stamp = as_utc(ts, "timestamp")
    return stamp.tz_convert(tz).tz_localize(None).normalize()


def day_start_utc(day: Any, tz: str) -> pd.Timestamp:
    """Local midnight of a calendar day in ``tz`` as a UTC instant."""
    d = pd.Timestamp(day)
    if d.tzinfo is not None:
        d = d.tz_localize(None)
    return (
        d.normalize().tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
    )


def days_to_utc(days: pd.Series, tz: str) -> pd.Series:
    """Series of local calendar days (naive midnights) -> their local midnight as UTC instants."""
    d = pd.to_datetime(days)
    return (
        d.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        .dt.tz_convert("UTC")
        .dt.as_unit("ns")
    )


def whole_days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole calendar days between two series of local days (same day = 0), Int64 with NA."""
    delta = (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days
    return delta.astype("Int64")


def week_monday(days: pd.Series) -> pd.Series:
    """ISO week label (its Monday) of each local day."""
    d = pd.to_datetime(days)
    return d - pd.to_timedelta(d.dt.day_of_week, unit="D")


def to_ms(values: pd.Series | np.ndarray) -> np.ndarray:
    """UTC instants as int64 milliseconds since the epoch (NaT -> int64 min)."""
    if isinstance(values, pd.Series):
        arr = utc_ns(values).to_numpy(dtype="datetime64[ns]")
    else:
        arr = np.asarray(values).astype("datetime64[ns]")
    ints = arr.astype(np.int64)
    nat = np.isnat(arr)
    out = ints // 1_000_000
    out[nat] = np.iinfo(np.int64).min
    return out
