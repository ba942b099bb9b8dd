"""Input and output frame contracts of the metrics engine: columns, kinds, cheap validators.

Each frame is a plain ``pandas.DataFrame``. A :class:`FrameSpec` lists its columns in order with a
*kind* and a one-line meaning. Kinds:

``str``   text, never missing (pandas ``object`` or ``str``/``string`` dtype)
``str?``  text, may be missing (None / NaN / NA)
``bool``  numpy ``bool``
``float`` float64, NaN when absent
``int``   integer
``ts``    ``datetime64[*, UTC]``, never NaT
``ts?``   ``datetime64[*, UTC]``, NaT when absent

Validators only check what is cheap (columns present, dtypes, no missing keys); they never copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pandas.api import types as ptypes

Kind = Literal["str", "str?", "bool", "float", "int", "ts", "ts?"]
SOURCE = "the configured source's name (two Jira sites are two sources)"


class FrameError(ValueError):
    """A frame does not honour its contract (missing column, wrong dtype, missing key)."""


@dataclass(frozen=True)
class FrameSpec:
    """Ordered column contract of one frame: name -> (kind, meaning)."""

    name: str
    columns: tuple[tuple[str, Kind, str], ...]

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c[0] for c in self.columns]

    @property
    def kinds(self) -> dict[str, Kind]:
        """Column name -> kind."""
        return {c[0]: c[1] for c in self.columns}


ITEMS = FrameSpec(
    "items",
    (
        ("source", "str", SOURCE),
        ("item_id", "str", "immutable id at the source (Jira issue id, Trello card id)"),
        ("key", "str", "human key (WEB-12) or Trello short link"),
        ("project", "str", "Jira project key or Trello board id"),
        ("team", "str", "owning team"),
        ("type", "str", "issue type (Story, Bug, Epic, ...) or 'Card' / 'Roadmap' for Trello"),
        ("is_subtask", "bool", "Jira sub-task; excluded from sprint and flow metrics"),
        ("title", "str", "summary / card name"),
        ("status", "str", "current status or Trello list name"),
        ("created", "ts", "creation instant, UTC"),
        ("estimate", "float", "current estimate (story points), NaN when none"),
        ("parent_key", "str?", "current epic / roadmap parent key"),
        ("due", "ts?", "current due date / target of a roadmap item"),
        ("deleted_at", "ts?", "when the store saw the item deleted at the source"),
        ("url", "str", "browse link"),
    ),
)

# Optional ``items`` columns, used when present: ``archived`` (bool) = archived at the source
# now (Trello cards), never work in progress.
ITEMS_OPTIONAL: tuple[str, ...] = ("archived",)

TRANSITIONS = FrameSpec(
    "transitions",
    (
        ("source", "str", SOURCE),
        ("item_id", "str", "item id"),
        ("at", "ts", "instant of the status change, UTC"),
        ("from_status", "str?", "status (list) before"),
        ("to_status", "str", "status (list) after"),
    ),
)

CHANGES = FrameSpec(
    "changes",
    (
        ("source", "str", SOURCE),
        ("item_id", "str", "item id"),
        ("at", "ts", "instant of the field change, UTC"),
        (
            "field",
            "str",
            "estimate | sprint | flagged | parent | fix_version | due_date | assignee",
        ),
        ("from_value", "str?", "value before (numbers as text; sprint: '12,13'; '' = none)"),
        ("to_value", "str?", "value after"),
    ),
)

SPRINTS = FrameSpec(
    "sprints",
    (
        ("source", "str", SOURCE),
        ("sprint_id", "str", "sprint id"),
        ("board_id", "str", "origin board"),
        ("name", "str", "sprint name"),
        ("state", "str", "closed | active | future (current)"),
        ("start", "ts?", "start instant"),
        ("end", "ts?", "planned end instant"),
        ("complete", "ts?", "completion instant"),
    ),
)

ITEM_SPRINTS = FrameSpec(
    "item_sprints",
    (
        ("source", "str", SOURCE),
        ("item_id", "str", "item id"),
        ("sprint_id", "str", "a sprint the item is in now"),
    ),
)

BOARDS = FrameSpec(
    "boards",
    (
        ("source", "str", SOURCE),
        ("board_id", "str", "board id"),
        ("name", "str", "board name"),
        ("type", "str", "scrum | kanban | trello"),
        ("team", "str", "team the board belongs to"),
        (
            "estimation",
            "str?",
            "the board's estimation field id; '' = issue count; missing = unknown",
        ),
    ),
)

VERSIONS = FrameSpec(
    "versions",
    (
        ("source", "str", SOURCE),
        ("version_id", "str", "version id"),
        ("project", "str", "project key"),
        ("name", "str", "version name"),
        ("released", "bool", "released now"),
        ("release_date", "ts?", "release date (target before release)"),
    ),
)

ITEM_VERSIONS = FrameSpec(
    "item_versions",
    (
        ("source", "str", SOURCE),
        ("item_id", "str", "item id"),
        ("version_id", "str", "a fix version of the item now"),
    ),
)

LINKS = FrameSpec(
    "links",
    (
        ("source", "str", SOURCE),
        ("item_id", "str", "item id"),
        ("link_type", "str", "link type name, e.g. 'Blocks'"),
        ("direction", "str", "'outward': this item blocks other; 'inward': blocked by other"),
        ("other_key", "str", "key of the other item"),
    ),
)

SYNC_RUNS = FrameSpec(
    "sync_runs",
    (
        ("source", "str", SOURCE),
        ("finished_at", "ts", "when the run ended"),
        ("succeeded", "bool", "whether it succeeded"),
    ),
)

BASELINES = FrameSpec(
    "baselines",
    (
        ("source", "str", SOURCE),
        ("roadmap_id", "str", "roadmap item id (item_id, or 'version:<id>')"),
        ("baseline_at", "ts", "when the store first saw the item with a target"),
        ("baseline_scope", "int", "child items then"),
        ("baseline_target", "ts", "target then"),
    ),
)

SNAPSHOT = FrameSpec(
    "roadmap_snapshot",
    (
        ("snapshot_at", "ts", "as_of of the report that produced the row"),
        ("source", "str", SOURCE),
        ("roadmap_id", "str", "roadmap item id (item_id, or 'version:<id>')"),
        ("kind", "str", "epic | version | card"),
        ("key", "str", "epic key, version name or card short link"),
        ("title", "str", "title"),
        ("team", "str", "owning team"),
        ("target", "ts?", "target date (local midnight, as UTC instant)"),
        ("p50", "ts?", "forecast p50 date (local midnight, as UTC instant)"),
        ("p85", "ts?", "forecast p85 date"),
        ("p95", "ts?", "forecast p95 date"),
        ("done_at", "ts?", "when it was done (own done date or last child done)"),
        ("scope", "int", "child items at as_of"),
        ("remaining", "int", "child items not done"),
        ("pct_complete", "float", "done children / scope x 100 (NaN without children)"),
        ("status", "str", "done | on track | at risk | off track | no target"),
        ("reasons", "str", "reason codes joined by ',' ('' when none)"),
        ("evidence", "str", "one plain-language sentence per reason, joined by '\\n'"),
        ("severity", "int", "ordering key: higher is worse"),
    ),
)


def _bad(spec: FrameSpec, msg: str) -> FrameError:
    return FrameError(f"{spec.name}: {msg}")


def _is_text(dtype: Any) -> bool:
    return bool(ptypes.is_object_dtype(dtype) or ptypes.is_string_dtype(dtype))


def validate(frame: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """Check columns and dtypes against ``spec`` and return the frame unchanged (cheap, no copy)."""
    if not isinstance(frame, pd.DataFrame):
        raise _bad(spec, f"expected a DataFrame, got {type(frame).__name__}")
    missing = [c for c in spec.names if c not in frame.columns]
    if missing:
        raise _bad(spec, f"missing columns {missing}")
    for name, kind, _doc in spec.columns:
        col = frame[name]
        dtype = col.dtype
        if kind in ("ts", "ts?"):
            if not isinstance(dtype, pd.DatetimeTZDtype) or str(dtype.tz) not in ("UTC", "utc"):
                raise _bad(spec, f"column {name!r} must be datetime64[UTC], got {dtype}")
        elif kind == "bool":
            if not ptypes.is_bool_dtype(dtype):
                raise _bad(spec, f"column {name!r} must be bool, got {dtype}")
        elif kind in ("float", "int"):
            if not ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype):
                raise _bad(spec, f"column {name!r} must be numeric, got {dtype}")
        elif kind in ("str", "str?") and len(col) and not _is_text(dtype):
            raise _bad(spec, f"column {name!r} must be text, got {dtype}")
        if kind in ("str", "ts", "int") and len(col) and bool(col.isna().any()):
            raise _bad(spec, f"column {name!r} has missing values")
    return frame


def validate_items(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate an ``items`` frame (see :data:`ITEMS`)."""
    return validate(frame, ITEMS)


def validate_transitions(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``transitions`` frame (see :data:`TRANSITIONS`)."""
    return validate(frame, TRANSITIONS)


def validate_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``changes`` frame (see :data:`CHANGES`)."""
    return validate(frame, CHANGES)


def validate_sprints(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``sprints`` frame (see :data:`SPRINTS`)."""
    return validate(frame, SPRINTS)


def validate_item_sprints(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate an ``item_sprints`` frame (see :data:`ITEM_SPRINTS`)."""
    return validate(frame, ITEM_SPRINTS)


def validate_boards(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``boards`` frame (see :data:`BOARDS`)."""
    return validate(frame, BOARDS)


def validate_versions(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``versions`` frame (see :data:`VERSIONS`)."""
    return validate(frame, VERSIONS)


def validate_item_versions(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate an ``item_versions`` frame (see :data:`ITEM_VERSIONS`)."""
    return validate(frame, ITEM_VERSIONS)


def validate_links(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``links`` frame (see :data:`LINKS`)."""
    return validate(frame, LINKS)


def validate_sync_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``sync_runs`` frame (see :data:`SYNC_RUNS`)."""
    return validate(frame, SYNC_RUNS)


def validate_baselines(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``baselines`` frame (see :data:`BASELINES`)."""
    return validate(frame, BASELINES)


def validate_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a roadmap ``snapshot`` frame (see :data:`SNAPSHOT`)."""
    return validate(frame, SNAPSHOT)


def build_frame(spec: FrameSpec, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a contract-conforming frame from dict records (tests, fixtures, the store loader)."""
    rows = list(records)
    data: dict[str, Any] = {}
    for name, kind, _doc in spec.columns:
        values: list[Any] = [r.get(name) for r in rows]
        if kind in ("ts", "ts?"):
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        elif kind == "bool":
            data[name] = pd.Series([bool(v) for v in values], dtype=bool)
        elif kind == "float":
            data[name] = pd.Series(
                [float("nan") if v is None else float(v) for v in values], dtype="float64"
            )
        elif kind == "int":
            data[name] = pd.Series([int(v) for v in values], dtype="int64")
        else:
            data[name] = pd.Series(values, dtype=object if not values else None)
    frame = pd.DataFrame(data, columns=spec.names)
    return validate(frame, spec)


def empty_frame(spec: FrameSpec) -> pd.DataFrame:
    """An empty frame with the contract's columns and dtypes."""
    return build_frame(spec, [])
