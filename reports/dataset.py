"""The one loader of the store into the engine's input frames (:mod:`pulse.reports.metrics.frames`).

Reads the whole store (:func:`load_dataset`, the workbook, exports and the stored analysis) or a
slice of chosen items (:meth:`Loaded.add`, looked up by primary key in chunks, for `pulse show`),
as the store knew it at ``as_of``. The small tables (sources, statuses, boards, versions, sprints,
sync runs) are read whole. Frames carry the source *name* in their `source` column (several Jira
sites can coexist), UTC timestamps and status names as the statuses' current names; items
created after ``as_of`` are absent and deletions after it are ignored. History rows after
``as_of`` are kept: the engine cuts at ``as_of`` itself and needs them to know the value *before*
a later change (an item's status at ``as_of`` is its first later transition's from-status).
Sync runs after ``as_of`` are kept too: freshness for a past day asks whether a later sync covers
it (METRICS §7). Timestamps are read raw and parsed vectorised (SQLite keeps them as text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    Select,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
    type_coerce,
)

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
from pulse.store import Store, schema

S, I = schema.sources, schema.items  # noqa: E741
_TS_KINDS = ("ts", "ts?")


def _raw(col: Any) -> Any:
    """A column read without SQLAlchemy's per-row result processing (parsed in bulk later)."""
    return type_coerce(col, Text)


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


IdPairs = Sequence[tuple[int, str]]  # (source_id, item_id), sorted


def _fetch(
    conn: Connection,
    query: Select[Any],
    target: Table | None = None,
    ids: IdPairs | None = None,
) -> tuple[list[Any], list[str]]:
    """Rows as the driver gives them (no per-row processing: values are converted in bulk).

    With ``ids`` (sorted (source_id, item_id) pairs), only the rows of those items of
    ``target``, asked for in chunks by primary key so the database looks them up by index.
    """
    names = list(query.selected_columns.keys())
    if ids is None or target is None:
        return _rows(conn, query), names
    out: list[Any] = []
    for sid, chunk in _id_chunks(ids):
        out += _rows(conn, query.where(target.c.source_id == sid, target.c.item_id.in_(chunk)))
    return out, names


def _rows(conn: Connection, query: Select[Any]) -> list[Any]:
    result = conn.execute(query)
    cursor = getattr(result, "cursor", None)
    if cursor is not None:
        rows = list(cursor.fetchall())
        result.close()
        return rows
    return [tuple(r) for r in result]


def _id_chunks(ids: Sequence[tuple[int, str]], size: int = 500) -> Iterable[tuple[int, list[str]]]:
    """(source_id, up to ``size`` item ids) in the order given."""
    chunk: list[str] = []
    current: int | None = None
    for sid, iid in ids:
        if (sid != current or len(chunk) >= size) and chunk:
            assert current is not None
            yield current, chunk
            chunk = []
        current = sid
        chunk.append(iid)
    if chunk and current is not None:
        yield current, chunk


@dataclass
class Dataset:
    """Everything a report or query needs: the engine's inputs and its configuration."""

    inputs: MetricsInputs
    config: MetricsConfig
    as_of: pd.Timestamp
    statuses: pd.DataFrame


@dataclass
class StoreMeta:
    """The small tables, read whole, and what the filters are checked against."""

    as_of: pd.Timestamp
    source_names: dict[int, str]
    source_ids: dict[str, int]
    projects: pd.DataFrame  # source, source_id, project, team (distinct over items)
    statuses: pd.DataFrame
    boards: pd.DataFrame
    versions: pd.DataFrame  # VERSIONS frame plus source_id
    sprints: pd.DataFrame
    sync_runs: pd.DataFrame
    workflows: WorkflowMap
    config: MetricsConfig


def _team(settings: Settings, source: str, group: str) -> str:
    for configured in settings.sources:
        if configured.name == source:
            return configured.team_for(group)
    return group


def read_meta(conn: Connection, settings: Settings, as_of: pd.Timestamp) -> StoreMeta:
    """Sources, projects (with teams), statuses, boards, versions, sprints and sync runs."""
    src = {int(i): str(n) for i, n in conn.execute(select(S.c.id, S.c.name)).all()}
    rows = conn.execute(select(I.c.source_id, func.coalesce(I.c.project_key, "")).distinct()).all()
    projects = pd.DataFrame(
        [(src[int(s)], int(s), str(p)) for s, p in rows if int(s) in src],
        columns=["source", "source_id", "project"],
    )
    projects["team"] = [
        _team(settings, s, p) for s, p in zip(projects["source"], projects["project"], strict=True)
    ]
    st = schema.statuses
    srows, snames = _fetch(
        conn,
        select(
            st.c.source_id, st.c.status_id, st.c.name, st.c.category, st.c.board_id, st.c.position
        ).order_by(st.c.source_id, st.c.status_id),
    )
    statuses = pd.DataFrame.from_records(srows, columns=snames)
    statuses["source"] = statuses["source_id"].map(src) if len(statuses) else []
    b = schema.boards
    brows, bnames = _fetch(
        conn,
        select(
            b.c.source_id,
            b.c.board_id,
            b.c.name,
            b.c.type,
            func.coalesce(b.c.project_key, b.c.name).label("team"),
            b.c.estimation_field.label("estimation"),
        ).order_by(b.c.source_id, b.c.board_id),
    )
    boards = _frame([(src[int(r[0])], *r[1:]) for r in brows], ["source", *bnames[1:]], BOARDS)
    boards["team"] = [
        _team(settings, s, p) for s, p in zip(boards["source"], boards["team"], strict=True)
    ]
    v = schema.versions
    vrows, vnames = _fetch(
        conn,
        select(
            v.c.source_id,
            v.c.version_id,
            func.coalesce(v.c.project_key, "").label("project"),
            v.c.name,
            v.c.released,
            _raw(v.c.release_date).label("release_date"),
        ).order_by(v.c.source_id, v.c.version_id),
    )
    versions = _frame(
        [(src[int(r[0])], *r[1:], int(r[0])) for r in vrows],
        ["source", *vnames[1:], "source_id"],
        VERSIONS,
    )
    if "source_id" not in versions:
        versions["source_id"] = pd.Series([], dtype="int64")
    sp = schema.sprints
    sprows, spnames = _fetch(
        conn,
        select(
            sp.c.source_id,
            sp.c.sprint_id,
            func.coalesce(sp.c.board_id, "").label("board_id"),
            sp.c.name,
            sp.c.state,
            _raw(sp.c.start_at).label("start"),
            _raw(sp.c.end_at).label("end"),
            _raw(sp.c.complete_at).label("complete"),
        ).order_by(sp.c.source_id, sp.c.sprint_id),
    )
    sprints = _frame([(src[int(r[0])], *r[1:]) for r in sprows], ["source", *spnames[1:]], SPRINTS)
    runs = schema.sync_runs
    rrows, _ = _fetch(
        conn,
        select(runs.c.source_id, _raw(runs.c.finished_at), runs.c.status == "ok")
        .where(runs.c.finished_at.is_not(None), runs.c.job == "sync")
        .order_by(runs.c.finished_at, runs.c.id),
    )
    sync_runs = _frame(
        [(src.get(int(r[0]), ""), r[1], r[2]) for r in rrows if r[0] is not None],
        ["source", "finished_at", "succeeded"],
        SYNC_RUNS,
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
        source_ids={n: i for i, n in src.items()},
        projects=projects,
        statuses=statuses,
        boards=boards,
        versions=versions,
        sprints=sprints,
        sync_runs=sync_runs,
        workflows=workflows,
        config=config,
    )


# -- item selections ------------------------------------------------------------------------


def alive(as_of: pd.Timestamp) -> Any:
    """SQL condition: the item existed at as_of (created by then, not gone before)."""
    cutoff = as_of.to_pydatetime()
    gone = func.coalesce(I.c.deleted_at, I.c.access_lost_at, I.c.out_of_scope_at)
    return and_(I.c.created <= cutoff, or_(gone.is_(None), gone > cutoff))


def ids_where(conn: Connection, *conditions: Any) -> set[tuple[int, str]]:
    """(source_id, item_id) of the items matching every condition."""
    rows = conn.execute(select(I.c.source_id, I.c.item_id).where(*conditions)).all()
    return {(int(s), str(i)) for s, i in rows}


@dataclass
class Loaded:
    """Frames accumulated over a query's loading rounds (each item loaded once)."""

    meta: StoreMeta
    settings: Settings
    items: list[pd.DataFrame] = field(default_factory=list)
    transitions: list[pd.DataFrame] = field(default_factory=list)
    changes: list[pd.DataFrame] = field(default_factory=list)
    links: list[pd.DataFrame] = field(default_factory=list)
    item_sprints: list[pd.DataFrame] = field(default_factory=list)
    item_versions: list[pd.DataFrame] = field(default_factory=list)
    ids: set[tuple[int, str]] = field(default_factory=set)

    def add(self, conn: Connection, ids: Iterable[tuple[int, str]]) -> pd.DataFrame:
        """Load the items not loaded yet, with every history row; return their items frame."""
        new = sorted(set(ids) - self.ids)
        if not new:
            return empty_frame(ITEMS)
        self.ids.update(new)
        items = _items(conn, new, self.meta, self.settings)
        self.items.append(items)
        self.transitions.append(_transitions(conn, new, self.meta))
        self.changes.append(_history(conn, new, self.meta))
        self.links.append(_links(conn, new, self.meta))
        self.item_sprints.append(_membership(conn, new, self.meta, "sprint"))
        self.item_versions.append(_membership(conn, new, self.meta, "version"))
        return items

    def add_all(self, conn: Connection) -> None:
        """Load every item of the store (as known at as_of) with every history row."""
        self.items.append(_items(conn, None, self.meta, self.settings))
        self.transitions.append(_transitions(conn, None, self.meta))
        self.changes.append(_history(conn, None, self.meta))
        self.links.append(_links(conn, None, self.meta))
        self.item_sprints.append(_membership(conn, None, self.meta, "sprint"))
        self.item_versions.append(_membership(conn, None, self.meta, "version"))

    def dataset(self) -> Dataset:
        """The accumulated frames as a :class:`Dataset` for the engine."""

        def cat(parts: list[pd.DataFrame], spec: FrameSpec, sort: list[str] | None = None):
            frames = [p for p in parts if len(p)]
            if not frames:
                return empty_frame(spec)
            out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            if sort and len(frames) > 1:
                out = out.sort_values(sort, kind="stable").reset_index(drop=True)
            extra = [c for c in ITEMS_OPTIONAL if spec is ITEMS and c in out.columns]
            return out[[*spec.names, *extra]]

        meta = self.meta
        inputs = MetricsInputs(
            items=cat(self.items, ITEMS),
            transitions=cat(self.transitions, TRANSITIONS),
            changes=cat(self.changes, CHANGES),
            sprints=meta.sprints,
            item_sprints=cat(self.item_sprints, ITEM_SPRINTS),
            boards=meta.boards,
            versions=meta.versions[VERSIONS.names],
            item_versions=cat(self.item_versions, ITEM_VERSIONS),
            links=cat(self.links, LINKS),
            sync_runs=meta.sync_runs,
        )
        statuses = meta.statuses[["source", "name", "category", "board_id", "position"]]
        return Dataset(inputs=inputs, config=meta.config, as_of=meta.as_of, statuses=statuses)


def _items(
    conn: Connection, ids: IdPairs | None, meta: StoreMeta, settings: Settings
) -> pd.DataFrame:
    gone = func.coalesce(I.c.deleted_at, I.c.access_lost_at, I.c.out_of_scope_at)
    rows, names = _fetch(
        conn,
        select(
            I.c.source_id,
            I.c.item_id,
            I.c.key,
            func.coalesce(I.c.project_key, "").label("project"),
            func.coalesce(I.c.type, "").label("type"),
            I.c.is_subtask,
            I.c.title,
            func.coalesce(I.c.status, "").label("status"),
            _raw(I.c.created).label("created"),
            I.c.estimate,
            I.c.parent_key,
            _raw(func.coalesce(I.c.target_date, I.c.due)).label("due"),
            _raw(gone).label("deleted_at"),
            func.coalesce(I.c.url, "").label("url"),
            I.c.archived,
        )
        .select_from(I)
        .order_by(I.c.source_id, I.c.item_id),
        I,
        ids,
    )
    frame = _frame(rows, names, ITEMS)
    if not len(frame):
        return frame
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
    return frame[[*ITEMS.names, *ITEMS_OPTIONAL]].reset_index(drop=True)


def _history_query(table: Table, *columns: Any) -> Select[Any]:
    return (
        select(table.c.source_id, table.c.item_id, _raw(table.c.at).label("at"), *columns)
        .select_from(table)
        .order_by(table.c.source_id, table.c.item_id, table.c.at, table.c.change_id, table.c.seq)
    )


def _transitions(conn: Connection, ids: IdPairs | None, meta: StoreMeta) -> pd.DataFrame:
    t = schema.transitions
    # Statuses and lists can be renamed: every change takes the status's current name.
    st_from, st_to = schema.statuses.alias("st_from"), schema.statuses.alias("st_to")
    query = (
        select(
            t.c.source_id,
            t.c.item_id,
            _raw(t.c.at).label("at"),
            func.coalesce(st_from.c.name, t.c.from_status).label("from_status"),
            func.coalesce(st_to.c.name, t.c.to_status, "").label("to_status"),
        )
        .select_from(
            t.outerjoin(
                st_from,
                and_(
                    st_from.c.source_id == t.c.source_id,
                    st_from.c.status_id == t.c.from_status_id,
                ),
            ).outerjoin(
                st_to,
                and_(st_to.c.source_id == t.c.source_id, st_to.c.status_id == t.c.to_status_id),
            )
        )
        .order_by(t.c.source_id, t.c.item_id, t.c.at, t.c.change_id, t.c.seq)
    )
    rows, names = _fetch(conn, query, t, ids)
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


def _history(conn: Connection, ids: IdPairs | None, meta: StoreMeta) -> pd.DataFrame:
    c = schema.changes
    rows, names = _fetch(
        conn,
        _history_query(c, c.c.field, c.c.from_value, c.c.to_value, c.c.from_string, c.c.to_string),
        c,
        ids,
    )
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


def _links(conn: Connection, ids: IdPairs | None, meta: StoreMeta) -> pd.DataFrame:
    lk = schema.links
    rows, names = _fetch(
        conn,
        select(lk.c.source_id, lk.c.item_id, lk.c.link_type, lk.c.direction, lk.c.other_key)
        .select_from(lk)
        .where(lk.c.other_key.is_not(None))
        .order_by(lk.c.source_id, lk.c.item_id, lk.c.link_id, lk.c.direction),
        lk,
        ids,
    )
    return _named(_frame(rows, names, LINKS), meta, LINKS)


def _membership(conn: Connection, ids: IdPairs | None, meta: StoreMeta, kind: str) -> pd.DataFrame:
    table = schema.item_sprints if kind == "sprint" else schema.item_versions
    spec = ITEM_SPRINTS if kind == "sprint" else ITEM_VERSIONS
    column = f"{kind}_id"
    rows, names = _fetch(
        conn,
        select(table.c.source_id, table.c.item_id, table.c[column])
        .select_from(table)
        .order_by(table.c.source_id, table.c.item_id, table.c[column]),
        table,
        ids,
    )
    return _named(_frame(rows, names, spec), meta, spec)


def keys_to_ids(
    conn: Connection, meta: StoreMeta, keys: dict[int, set[str]]
) -> set[tuple[int, str]]:
    """Items alive at as_of with these keys (per source)."""
    out: set[tuple[int, str]] = set()
    for sid, ks in keys.items():
        for chunk in _chunks(sorted(ks)):
            out |= ids_where(conn, alive(meta.as_of), I.c.source_id == sid, I.c.key.in_(chunk))
    return out


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def read_dataset(conn: Connection, settings: Settings, as_of: pd.Timestamp) -> Dataset:
    """The whole store as known at ``as_of`` (a UTC instant), read on ``conn``."""
    meta = read_meta(conn, settings, as_of)
    loaded = Loaded(meta, settings)
    loaded.add_all(conn)
    return loaded.dataset()


def load_dataset(store: Store, settings: Settings, as_of: pd.Timestamp | None = None) -> Dataset:
    """Read every frame the metrics need, as the store knew them at ``as_of`` (default now)."""
    when = pd.Timestamp(clock.now()) if as_of is None else pd.Timestamp(as_of)
    when = when.tz_convert("UTC") if when.tzinfo else when.tz_localize("UTC")
    with store.engine.connect() as conn:
        return read_dataset(conn, settings, when)
