"""The one loader of the store into the engine's input frames (:mod:`pulse.reports.metrics.frames`).

Reads the whole store (:func:`load_dataset`: the workbook, exports and the stored analysis) as
the store knew it at ``as_of``, from the raw rows :mod:`pulse.store.loader_reads` gives, and types
them as
the frames' specs say. Frames carry the source *name* in their `source` column (several Jira
sites can coexist), UTC timestamps and status names as the statuses' current names; items
created after ``as_of`` are absent and deletions after it are ignored. History rows after
``as_of`` are kept: the engine cuts at ``as_of`` itself and needs them to know the value *before*
a later change (an item's status at ``as_of`` is its first later transition's from-status).
Sync runs after ``as_of`` are kept too: freshness for a past day asks whether a later sync covers
it (METRICS §7). Timestamps are read raw and parsed vectorised (SQLite keeps them as text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import pandas as pd

from pulse import clock
from pulse.reports.metrics.frames import (
    BOARDS,
    CHANGES,
    ITEM_SPRINTS,
    ITEM_VERSIONS,
    ITEMS,
    ITEMS_OPTIONAL,
    LINKS,
    SPRINTS,
    SYNC_RUNS,
    TRANSITIONS,
    VERSIONS,
    FrameSpec,
    empty_frame,
)
from pulse.reports.metrics.pipeline import MetricsConfig, MetricsInputs
from pulse.reports.metrics.workflow import WorkflowMap
from pulse.reports.workflows import build_workflows
from pulse.settings import Settings
from pulse.store import Connection, Store, loader_reads
from pulse.store.catalog import item_projects, source_names

_TS_KINDS = ("ts", "ts?")


def to_utc(values: Any) -> pd.Series:
    """Raw timestamps (SQLite text, or driver datetimes) -> datetime64[UTC], NaT for None."""
    series = pd.Series(values, dtype=object)
    if len(series) == 0:
        return pd.Series(pd.to_datetime([], utc=True))
    try:  # SQLite's text is ISO 8601 throughout: parsed in one pass, much faster than "mixed"
        out = pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        out = pd.to_datetime(series, utc=True, format="mixed")
    return out.dt.as_unit("ns")


def _frame(rows: Sequence[Any], names: list[str], spec: FrameSpec) -> pd.DataFrame:
    if not rows:
        return empty_frame(spec)
    frame = pd.DataFrame.from_records(list(rows), columns=names)
    for name, kind in spec.kinds.items():
        if name not in frame:
            continue
        if kind in _TS_KINDS:
            frame[name] = to_utc(frame[name])
        elif kind == "bool":
            frame[name] = frame[name].fillna(False).astype(bool)
        elif kind == "float":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind == "str":
            frame[name] = frame[name].fillna("").astype(str).astype(object)
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


@dataclass
class Dataset:
    """Everything a report or query needs: the engine's inputs and its configuration."""

    inputs: MetricsInputs
    config: MetricsConfig
    as_of: pd.Timestamp
    statuses: pd.DataFrame


@dataclass
class StoreMeta:
    """The small tables, read whole, and the engine's configuration for this store."""

    as_of: pd.Timestamp
    source_names: dict[int, str]
    projects: pd.DataFrame  # source, source_id, project, team (distinct over items)
    statuses: pd.DataFrame
    boards: pd.DataFrame
    versions: pd.DataFrame  # VERSIONS frame plus source_id
    sprints: pd.DataFrame
    sync_runs: pd.DataFrame
    workflows: WorkflowMap
    config: MetricsConfig
    people: pd.DataFrame  # source, person_id, name (display name)


def _team(settings: Settings, source: str, group: str) -> str:
    for configured in settings.sources:
        if configured.name == source:
            return configured.team_for(group)
    return group


def read_meta(conn: Connection, settings: Settings, as_of: pd.Timestamp) -> StoreMeta:
    """Sources, projects (with teams), statuses, boards, versions, sprints and sync runs."""
    src = source_names(conn)
    projects = pd.DataFrame(
        [(src[s], s, p) for s, p in item_projects(conn) if s in src],
        columns=["source", "source_id", "project"],
    )
    projects["team"] = [
        _team(settings, s, p) for s, p in zip(projects["source"], projects["project"], strict=True)
    ]
    srows, snames = loader_reads.statuses(conn)
    statuses = pd.DataFrame.from_records(srows, columns=snames)
    statuses["source"] = statuses["source_id"].map(src) if len(statuses) else []
    brows, bnames = loader_reads.boards(conn)
    boards = _frame([(src[int(r[0])], *r[1:]) for r in brows], ["source", *bnames[1:]], BOARDS)
    boards["team"] = [
        _team(settings, s, p) for s, p in zip(boards["source"], boards["team"], strict=True)
    ]
    vrows, vnames = loader_reads.versions(conn)
    versions = _frame(
        [(src[int(r[0])], *r[1:], int(r[0])) for r in vrows],
        ["source", *vnames[1:], "source_id"],
        VERSIONS,
    )
    if "source_id" not in versions:
        versions["source_id"] = pd.Series([], dtype="int64")
    sprows, spnames = loader_reads.sprints(conn)
    sprints = _frame([(src[int(r[0])], *r[1:]) for r in sprows], ["source", *spnames[1:]], SPRINTS)
    rrows, _ = loader_reads.sync_ends(conn)
    sync_runs = _frame(
        [(src.get(int(r[0]), ""), r[1], r[2]) for r in rrows if r[0] is not None],
        ["source", "finished_at", "succeeded"],
        SYNC_RUNS,
    )
    prows, _ = loader_reads.people(conn)
    people = pd.DataFrame(
        [(src[int(s)], str(p), n) for s, p, n in prows if int(s) in src],
        columns=["source", "person_id", "name"],
    )
    status_frame = statuses[["source", "name", "category", "board_id", "position"]]
    workflows = build_workflows(settings, status_frame, boards)
    config = MetricsConfig(
        workflows=workflows,
        tz=settings.report.timezone,
        sync_intervals={s.name: settings.sync_interval(s) for s in settings.sources},
        deleted_since=as_of - pd.Timedelta(timedelta(days=7)),
    )
    return StoreMeta(
        as_of=as_of,
        source_names=src,
        projects=projects,
        statuses=statuses,
        boards=boards,
        versions=versions,
        sprints=sprints,
        sync_runs=sync_runs,
        workflows=workflows,
        config=config,
        people=people,
    )


def _whole(frame: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """A frame with only the engine's columns; an empty one typed as its spec says."""
    return frame[spec.names] if len(frame) else empty_frame(spec)


def _assignees(frame: pd.DataFrame) -> pd.DataFrame:
    """source, item_id, person_id of the assigned items of a loaded items frame."""
    if "assignee_id" not in frame:
        return pd.DataFrame({"source": [], "item_id": [], "person_id": []}, dtype=object)
    assigned = frame[frame["assignee_id"].notna()]
    return pd.DataFrame(
        {
            "source": assigned["source"].astype(object).to_numpy(),
            "item_id": assigned["item_id"].astype(object).to_numpy(),
            "person_id": assigned["assignee_id"].astype(str).to_numpy(dtype=object),
        }
    )


def _items(
    conn: Connection, meta: StoreMeta, settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ITEMS frame of every item known at as_of, and their current assignees."""
    rows, names = loader_reads.items(conn)
    frame = _frame(rows, names, ITEMS)
    if not len(frame):
        return frame, _assignees(frame)
    frame["source"] = frame["source_id"].map(meta.source_names).astype(object)
    team = {
        (s, p): t
        for s, p, t in zip(
            meta.projects["source"], meta.projects["project"], meta.projects["team"], strict=True
        )
    }
    frame["team"] = [
        team.get((s, p)) or _team(settings, s, p)
        for s, p in zip(frame["source"], frame["project"], strict=True)
    ]
    frame = frame[frame["created"] <= meta.as_of].copy()
    frame.loc[frame["deleted_at"] > meta.as_of, "deleted_at"] = pd.NaT
    frame["archived"] = frame["archived"].fillna(False).astype(bool)
    return frame[[*ITEMS.names, *ITEMS_OPTIONAL]].reset_index(drop=True), _assignees(frame)


def _transitions(conn: Connection, meta: StoreMeta) -> pd.DataFrame:
    rows, names = loader_reads.transitions(conn)
    if not rows:
        return empty_frame(TRANSITIONS)
    frame = pd.DataFrame.from_records(rows, columns=names)
    del rows
    return pd.DataFrame(
        {
            "source": frame["source_id"].map(meta.source_names).astype(object).to_numpy(),
            "item_id": frame["item_id"].to_numpy(dtype=object),
            "at": to_utc(frame["at"]),
            "from_status": frame["from_status"].to_numpy(dtype=object),
            "to_status": frame["to_status"].to_numpy(dtype=object),
        }
    )


def _changes(conn: Connection, meta: StoreMeta) -> pd.DataFrame:
    rows, names = loader_reads.changes(conn)
    if not rows:
        return empty_frame(CHANGES)
    frame = _frame(rows, names, CHANGES)
    # The engine replays `parent` by epic *key*; Jira's changelog gives the parent's issue id
    # as from/to and its key as fromString/toString.
    parent = (frame["field"] == "parent").to_numpy()
    if parent.any():
        for value, text in (("from_value", "from_string"), ("to_value", "to_string")):
            use = parent & frame[text].notna().to_numpy()
            frame.loc[use, value] = frame.loc[use, text]
    return _named(frame, meta, CHANGES)


def _named(frame: pd.DataFrame, meta: StoreMeta, spec: FrameSpec) -> pd.DataFrame:
    """A frame read by source id, with its source's name and only the engine's columns."""
    if len(frame):
        frame["source"] = frame["source_id"].map(meta.source_names).astype(object)
    return frame[spec.names].reset_index(drop=True)


def _links(conn: Connection, meta: StoreMeta) -> pd.DataFrame:
    rows, names = loader_reads.links(conn)
    return _named(_frame(rows, names, LINKS), meta, LINKS)


def _membership(
    conn: Connection, meta: StoreMeta, kind: Literal["sprint", "version"]
) -> pd.DataFrame:
    spec = ITEM_SPRINTS if kind == "sprint" else ITEM_VERSIONS
    rows, names = loader_reads.memberships(conn, kind)
    return _named(_frame(rows, names, spec), meta, spec)


def read_dataset(conn: Connection, settings: Settings, as_of: pd.Timestamp) -> Dataset:
    """The whole store as known at ``as_of`` (a UTC instant), read on ``conn``."""
    meta = read_meta(conn, settings, as_of)
    items, assignees = _items(conn, meta, settings)
    transitions = _transitions(conn, meta)
    changes = _changes(conn, meta)
    links = _links(conn, meta)
    item_sprints = _membership(conn, meta, "sprint")
    item_versions = _membership(conn, meta, "version")
    inputs = MetricsInputs(
        items=items if len(items) else empty_frame(ITEMS),
        transitions=_whole(transitions, TRANSITIONS),
        changes=_whole(changes, CHANGES),
        sprints=meta.sprints,
        item_sprints=_whole(item_sprints, ITEM_SPRINTS),
        boards=meta.boards,
        versions=meta.versions[VERSIONS.names],
        item_versions=_whole(item_versions, ITEM_VERSIONS),
        links=_whole(links, LINKS),
        sync_runs=meta.sync_runs,
        assignees=assignees,
        people=meta.people,
    )
    statuses = meta.statuses[["source", "name", "category", "board_id", "position"]]
    return Dataset(inputs=inputs, config=meta.config, as_of=meta.as_of, statuses=statuses)


def load_dataset(store: Store, settings: Settings, as_of: pd.Timestamp | None = None) -> Dataset:
    """Read every frame the metrics need, as the store knew them at ``as_of`` (default now)."""
    when = pd.Timestamp(clock.now()) if as_of is None else pd.Timestamp(as_of)
    when = when.tz_convert("UTC") if when.tzinfo else when.tz_localize("UTC")
    with store.reading() as conn:
        return read_dataset(conn, settings, when)
