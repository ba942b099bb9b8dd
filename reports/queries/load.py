"""Load items with their whole histories, as the store knew them at as_of: all, or chosen ones.

The small tables (sources, statuses, boards, versions, sprints) are read whole. The large ones
(items, transitions, changes, links, memberships) are read whole for the organisation's
analysis (:meth:`Loaded.add_all`), or only for chosen items (:meth:`Loaded.add`, looked up by
primary key in chunks) for `pulse show`. Rows come from the driver without per-row
processing; status names are joined in SQL. Frames follow the engine's
contracts (:mod:`reports.metrics.frames`): items created after as_of are absent, deletions
after as_of are ignored, status names are the statuses' current names. History rows after as_of
are kept: the engine cuts at as_of itself and needs them to know the value *before* a later
change (an item's status at as_of is its first later transition's from-status, not its current
status). Timestamps are read as raw values and parsed vectorised (SQLite keeps them as
text), which is most of the speed-up over row-by-row conversion.
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
    literal,
    or_,
    select,
    type_coerce,
)

from reports.dataset import Dataset
from reports.metrics.frames import (
    BOARDS,
    CHANGES,
    ITEM_SPRINTS,
    ITEM_VERSIONS,
    ITEMS,
    LINKS,
    SPRINTS,
    SYNC_RUNS,
    TRANSITIONS,
    VERSIONS,
    FrameSpec,
    empty_frame,
)
from reports.metrics.pipeline import MetricsConfig, MetricsInputs
from reports.metrics.roadmap import ROADMAP_TYPES
from reports.metrics.workflow import WorkflowMap
from reports.workflows import build_workflows
from settings import Settings
from store import Store, schema

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

    def teams(self) -> list[str]:
        """Every team known from the items' projects."""
        return sorted(set(self.projects["team"]))

    def project_pairs(self, teams: Iterable[str] | None = None) -> list[tuple[int, str]]:
        """(source_id, project key) of the projects owned by ``teams`` (all when None)."""
        p = self.projects
        if teams is not None:
            p = p[p["team"].isin(list(teams))]
        return [(int(s), str(k)) for s, k in zip(p["source_id"], p["project"], strict=True)]


def _team(settings: Settings, source: str, group: str) -> str:
    for configured in settings.sources:
        if configured.name == source:
            return configured.team_for(group)
    return group


def read_meta(conn: Connection, settings: Settings, as_of: pd.Timestamp) -> StoreMeta:
    """Sources, projects (with teams), statuses, boards, versions, sprints and sync runs."""
    cutoff = as_of.to_pydatetime()
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
        ),
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
        ),
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
        ),
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
        ),
    )
    sprints = _frame([(src[int(r[0])], *r[1:]) for r in sprows], ["source", *spnames[1:]], SPRINTS)
    runs = schema.sync_runs
    rrows, _ = _fetch(
        conn,
        select(runs.c.source_id, _raw(runs.c.finished_at), runs.c.status == "ok").where(
            runs.c.finished_at.is_not(None), runs.c.finished_at <= cutoff, runs.c.job == "sync"
        ),
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


def in_projects(pairs: Sequence[tuple[int, str]]) -> Any:
    """SQL condition: the item belongs to one of these (source_id, project key) pairs."""
    if not pairs:
        return literal(False)
    by_source: dict[int, list[str]] = {}
    for s, p in pairs:
        by_source.setdefault(s, []).append(p)
    return or_(
        *(
            and_(I.c.source_id == s, func.coalesce(I.c.project_key, "").in_(keys))
            for s, keys in by_source.items()
        )
    )


def of_types(types: Sequence[str]) -> Any:
    """SQL condition: the item's type is one of these (case-insensitive)."""
    return func.lower(func.coalesce(I.c.type, "")).in_([t.casefold() for t in types])


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
        """The accumulated frames as a :class:`reports.dataset.Dataset` for the engine."""

        def cat(parts: list[pd.DataFrame], spec: FrameSpec, sort: list[str] | None = None):
            frames = [p for p in parts if len(p)]
            if not frames:
                return empty_frame(spec)
            out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            if sort and len(frames) > 1:
                out = out.sort_values(sort, kind="stable").reset_index(drop=True)
            return out[spec.names]

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
        ).select_from(I),
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
    return frame[ITEMS.names].reset_index(drop=True)


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
    frame["source"] = frame["source_id"].map(meta.source_names).astype(object)
    return frame[CHANGES.names].reset_index(drop=True)


def _links(conn: Connection, ids: IdPairs | None, meta: StoreMeta) -> pd.DataFrame:
    lk = schema.links
    rows, names = _fetch(
        conn,
        select(lk.c.source_id, lk.c.item_id, lk.c.link_type, lk.c.direction, lk.c.other_key)
        .select_from(lk)
        .where(lk.c.other_key.is_not(None)),
        lk,
        ids,
    )
    frame = _frame(rows, names, LINKS)
    if len(frame):
        frame["source"] = frame["source_id"].map(meta.source_names).astype(object)
    return frame[LINKS.names].reset_index(drop=True)


def _membership(conn: Connection, ids: IdPairs | None, meta: StoreMeta, kind: str) -> pd.DataFrame:
    table = schema.item_sprints if kind == "sprint" else schema.item_versions
    spec = ITEM_SPRINTS if kind == "sprint" else ITEM_VERSIONS
    column = f"{kind}_id"
    rows, names = _fetch(
        conn,
        select(table.c.source_id, table.c.item_id, table.c[column]).select_from(table),
        table,
        ids,
    )
    frame = _frame(rows, names, spec)
    if len(frame):
        frame["source"] = frame["source_id"].map(meta.source_names).astype(object)
    return frame[spec.names].reset_index(drop=True)


# -- selections used by several queries --------------------------------------------------------


def roadmap_ids(conn: Connection, meta: StoreMeta, condition: Any) -> set[tuple[int, str]]:
    """Roadmap-type items (epics, Trello roadmap cards) alive at as_of matching ``condition``."""
    return ids_where(conn, alive(meta.as_of), of_types(ROADMAP_TYPES), condition)


def window_ids(
    conn: Connection, meta: StoreMeta, pairs: Sequence[tuple[int, str]], since: pd.Timestamp
) -> set[tuple[int, str]]:
    """Items of these projects created, or moved between statuses, in [since, as_of].

    Every item done in that window is among them (its done date is a status change, or its
    creation), so throughput and cycle-time percentiles over the window are complete.
    """
    if not pairs:
        return set()
    lo, hi = since.to_pydatetime(), meta.as_of.to_pydatetime()
    t = schema.transitions
    moved = (
        select(t.c.source_id, t.c.item_id).where(t.c.at >= lo, t.c.at <= hi).distinct().subquery()
    )
    scoped = and_(alive(meta.as_of), in_projects(pairs))
    created = ids_where(conn, scoped, I.c.created >= lo)
    rows = conn.execute(
        select(I.c.source_id, I.c.item_id)
        .select_from(
            I.join(moved, and_(moved.c.source_id == I.c.source_id, moved.c.item_id == I.c.item_id))
        )
        .where(scoped)
    ).all()
    return created | {(int(s), str(i)) for s, i in rows}


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


def open_connection(store: Store) -> Connection:
    """A connection for one query."""
    return store.engine.connect()
