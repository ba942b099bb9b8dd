"""The freshness facts and warning line that the workbook and the questions both state.

:func:`facts_frame` joins the pipeline's freshness rows (METRICS §7: as of the report's day) with
each source's kind and, when its latest run by as_of failed, the error message the store keeps.
:func:`freshness_warnings` words one warning per source that is not fresh; the workbook's
headline and Summary and the `pulse risk` / `forecast` / `show` answers print the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

FACT_COLUMNS = [
    "source",
    "kind",
    "last_success",
    "age_hours",
    "interval_hours",
    "stale",
    "last_run_failed",
    "last_error",
    "state",
]


def facts_frame(
    freshness: pd.DataFrame | None,
    kinds: Mapping[str, str],
    statuses: list[dict[str, Any]],
) -> pd.DataFrame:
    """One row per source (:data:`FACT_COLUMNS`); ``statuses`` as
    :func:`pulse.store.status.source_status` (kind and last error of sources not configured)."""
    status = {row["source"]: row for row in statuses}
    fresh = freshness if freshness is not None else pd.DataFrame(columns=["source"])
    by_source = {str(r["source"]): r for r in fresh.to_dict("records")}
    rows: list[dict[str, Any]] = []
    for name in sorted(set(by_source) | set(kinds)):
        row = by_source.get(name, {})
        stored = status.get(name, {})
        failed = bool(row.get("last_run_failed", False))
        rows.append(
            {
                "source": name,
                "kind": kinds.get(name) or stored.get("kind") or "",
                "last_success": row.get("last_success", pd.NaT),
                "age_hours": row.get("age_hours", float("nan")),
                "interval_hours": row.get("interval_hours", float("nan")),
                "stale": bool(row.get("stale", True)),
                "last_run_failed": failed,
                "last_error": stored.get("last_error") if failed else None,
                "state": row.get("state", "never synced"),
            }
        )
    out = pd.DataFrame(rows, columns=FACT_COLUMNS)
    out["last_success"] = pd.to_datetime(out["last_success"], utc=True)
    return out


def freshness_warnings(facts: pd.DataFrame) -> list[str]:
    """One line per source that is stale, never synced, or whose last sync failed."""
    from pulse.safetext import one_line

    out = []
    for rec in facts.to_dict("records") if len(facts) else []:
        state = rec["state"]
        if state == "fresh":
            continue
        name = one_line(rec["source"], 64)
        if state == "never synced":
            out.append(f"{name} has never synced successfully")
        elif state == "last sync failed":
            why = one_line(rec.get("last_error") or "", 120)
            out.append(f"{name}: last sync failed" + (f" ({why})" if why else ""))
        else:
            age = rec["age_hours"]
            age_text = f"{age / 24:.1f} days" if age >= 48 else f"{age:.0f} hours"
            out.append(f"{name} last synced {age_text} ago")
    return out


def freshness_line(facts: pd.DataFrame) -> str:
    """ "DATA NOT FRESH: …" with every warning, or "" when every source is fresh."""
    warnings = freshness_warnings(facts)
    return "DATA NOT FRESH: " + "; ".join(warnings) if warnings else ""
