"""Benchmark of `pulse risk / forecast / show` on a 100,000-item store (not a timed test).

Run: ``python -m benchmarks.query_bench [--items 100000] [--transitions 1000000] [--db PATH]``.
Builds a SQLite store by bulk-inserting the metrics benchmark's synthetic organisation (20
teams, epics, stories, sub-tasks, sprints, versions, flags, links; see
:mod:`benchmarks.metrics_bench`) with :func:`pulse.store.writes.insert_rows`, then times each
question

- **cold**: the stored analysis cleared first, so the question computes the whole
  organisation's analysis and stores it (what the first question after a sync costs when
  nothing called ``refresh_analysis``); the pipeline's steps are printed once;
- **warm**: answered from the stored analysis (best and median of ``--repeat`` runs);
- as a library call in this process, and as a whole CLI process (``pulse …`` in a new
  subprocess each time, no helper process: interpreter start, imports, config, query,
  rendering), median of ``--repeat``, also as a ratio to a bare ``python -c pass`` measured in
  the same run.

Each line carries the 1-minute load average when it was measured: the machine is shared.
Target: each warm answer's whole process under one second, median (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.metrics_bench import AS_OF, synthetic
from pulse import clock
from pulse.settings import Settings
from pulse.store import open_store, schema
from pulse.store.writes import insert_rows

CATEGORY = {
    "Backlog": "new",
    "Ready": "new",
    "In Progress": "indeterminate",
    "Review": "indeterminate",
    "Done": "done",
}


def _py(ts: Any) -> datetime | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).to_pydatetime()


def _rows(table: Any, rows: Any) -> list[dict[str, Any]]:
    """Rows with every column of ``table`` (defaults where a row leaves one out)."""
    defaults = {
        c.name: (c.default.arg if c.default is not None and c.default.is_scalar else None)
        for c in table.columns
    }
    return [{**defaults, **row} for row in rows]


def build_store(path: Path, n_items: int, n_transitions: int) -> dict[str, Any]:
    """Bulk-insert a synthetic organisation; return a few keys worth asking about."""
    inputs = synthetic(n_items, n_transitions)
    store = open_store(f"sqlite:///{path}")
    now = clock.now()
    status_id = {name: str(i + 1) for i, name in enumerate([*CATEGORY, "Blocked (legacy)"])}
    items = inputs.items
    with store.transaction() as conn:
        insert_rows(
            conn,
            schema.sources,
            _rows(
                schema.sources,
                [
                    {
                        "id": 1,
                        "name": "jira",
                        "kind": "jira",
                        "url": "https://bench.example",
                        "created_at": now,
                    }
                ],
            ),
        )
        insert_rows(
            conn,
            schema.statuses,
            _rows(
                schema.statuses,
                [
                    {"source_id": 1, "status_id": sid, "name": name, "category": CATEGORY.get(name)}
                    for name, sid in status_id.items()
                ],
            ),
        )
        created = [_py(t) for t in items["created"]]
        due = [None if pd.isna(d) else pd.Timestamp(d).date() for d in items["due"]]
        insert_rows(
            conn,
            schema.items,
            _rows(
                schema.items,
                [
                    {
                        "source_id": 1,
                        "item_id": r[0],
                        "key": r[1],
                        "project_key": r[2],
                        "type": r[3],
                        "is_subtask": bool(r[4]),
                        "title": r[1],
                        "status": r[5],
                        "status_id": status_id.get(r[5]),
                        "status_category": CATEGORY.get(r[5]),
                        "created": c,
                        "estimate": None if np.isnan(r[6]) else float(r[6]),
                        "parent_key": r[7],
                        "due": d,
                        "url": f"https://bench.example/browse/{r[1]}",
                        "synced_at": now,
                    }
                    for r, c, d in zip(
                        items[
                            [
                                "item_id",
                                "key",
                                "project",
                                "type",
                                "is_subtask",
                                "status",
                                "estimate",
                                "parent_key",
                            ]
                        ].itertuples(index=False),
                        created,
                        due,
                        strict=True,
                    )
                ],
            ),
        )
        tr = inputs.transitions
        at = tr["at"].dt.tz_convert("UTC").dt.to_pydatetime()
        insert_rows(
            conn,
            schema.transitions,
            _rows(
                schema.transitions,
                [
                    {
                        "source_id": 1,
                        "item_id": i,
                        "change_id": str(k),
                        "seq": 0,
                        "at": a,
                        "from_status": f,
                        "to_status": t,
                        "from_status_id": status_id.get(f),
                        "to_status_id": status_id.get(t),
                    }
                    for k, (i, a, f, t) in enumerate(
                        zip(tr["item_id"], at, tr["from_status"], tr["to_status"], strict=True)
                    )
                ],
            ),
        )
        ch = inputs.changes
        at = ch["at"].dt.tz_convert("UTC").dt.to_pydatetime()
        insert_rows(
            conn,
            schema.changes,
            _rows(
                schema.changes,
                [
                    {
                        "source_id": 1,
                        "item_id": i,
                        "change_id": f"c{k}",
                        "seq": 0,
                        "at": a,
                        "field": fld,
                        "from_value": f,
                        "to_value": t,
                    }
                    for k, (i, a, fld, f, t) in enumerate(
                        zip(
                            ch["item_id"],
                            at,
                            ch["field"],
                            ch["from_value"],
                            ch["to_value"],
                            strict=True,
                        )
                    )
                ],
            ),
        )
        sp = inputs.sprints
        insert_rows(
            conn,
            schema.sprints,
            _rows(
                schema.sprints,
                [
                    {
                        "source_id": 1,
                        "sprint_id": r.sprint_id,
                        "board_id": r.board_id,
                        "name": r.name,
                        "state": r.state,
                        "start_at": _py(r.start),
                        "end_at": _py(r.end),
                        "complete_at": _py(r.complete),
                    }
                    for r in sp.itertuples(index=False)
                ],
            ),
        )
        memb = inputs.item_sprints.drop_duplicates()
        insert_rows(
            conn,
            schema.item_sprints,
            _rows(
                schema.item_sprints,
                [
                    {"source_id": 1, "item_id": i, "sprint_id": s}
                    for i, s in zip(memb["item_id"], memb["sprint_id"], strict=True)
                ],
            ),
        )
        vs = inputs.versions
        insert_rows(
            conn,
            schema.versions,
            _rows(
                schema.versions,
                [
                    {
                        "source_id": 1,
                        "version_id": r.version_id,
                        "project_key": r.project,
                        "name": r.name,
                        "released": bool(r.released),
                        "release_date": pd.Timestamp(str(r.release_date)).date(),
                    }
                    for r in vs.itertuples(index=False)
                ],
            ),
        )
        iv = inputs.item_versions.drop_duplicates()
        insert_rows(
            conn,
            schema.item_versions,
            _rows(
                schema.item_versions,
                [
                    {"source_id": 1, "item_id": i, "version_id": v}
                    for i, v in zip(iv["item_id"], iv["version_id"], strict=True)
                ],
            ),
        )
        lk = inputs.links.drop_duplicates(subset=["item_id", "other_key"])
        insert_rows(
            conn,
            schema.links,
            _rows(
                schema.links,
                [
                    {
                        "source_id": 1,
                        "item_id": i,
                        "link_id": f"l{k}",
                        "direction": "inward",
                        "link_type": "Blocks",
                        "other_key": o,
                    }
                    for k, (i, o) in enumerate(zip(lk["item_id"], lk["other_key"], strict=True))
                ],
            ),
        )
    store.dispose()
    open_epics = items[(items["type"] == "Epic") & (items["status"] != "Done")]
    wip = items[(items["type"] == "Story") & (items["status"].isin(["In Progress", "Review"]))]
    latest = vs.sort_values("release_date", kind="stable")
    return {
        "epic": str(open_epics["key"].iloc[len(open_epics) // 2]),
        "story": str(wip["key"].iloc[len(wip) // 2]),
        "version": str(latest["name"].iloc[-1]),
        "team": "P3",
        "items": len(items),
        "transitions": len(tr),
        "changes": len(ch),
    }


def write_config(path: Path, db: Path) -> Path:
    """A pulse.toml for the benchmark store (project = team, report zone Europe/Berlin)."""
    projects = ", ".join(f'"P{t}"' for t in range(20))
    text = f"""[store]
url = "sqlite:///{db}"
[report]
timezone = "Europe/Berlin"
[[sources]]
name = "jira"
kind = "jira"
url = "https://bench.example"
user = "bench@example.com"
token = "${{PULSE_BENCH_TOKEN}}"
projects = [{projects}]
"""
    path.write_text(text, encoding="utf-8")
    return path


def _time(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        runs.append(time.perf_counter() - t0)
    return min(runs), statistics.median(runs)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def _clear(store: Any) -> None:
    from pulse.store.analysis import clear

    with store.transaction() as conn:
        clear(conn)


def _cli(cmd: list[str], repeat: int = 1) -> tuple[float, str]:
    """Median wall time of ``repeat`` whole `pulse` processes, and its text (with any failure)."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        runs.append(time.perf_counter() - t0)
        if done.returncode != 0:
            return statistics.median(runs), f"exit {done.returncode}: {done.stderr.strip()[:60]}"
    return statistics.median(runs), f"{statistics.median(runs):6.2f}s"


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the store, time every question cold and warm, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this store")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI process timings")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold timings")
    args = parser.parse_args(argv)
    from pulse.reports.queries.analysis import compute, instant, refresh_analysis
    from pulse.reports.queries.forecast import forecast
    from pulse.reports.queries.risk import RiskFilters, risk
    from pulse.reports.queries.show import show
    from pulse.store.sql import begin_snapshot

    work = Path(tempfile.mkdtemp(prefix="pulse-query-bench-"))
    db = args.db or work / "bench.db"
    print(_load())
    t0 = time.perf_counter()
    keys_file = db.with_suffix(".keys")
    if db.exists() and keys_file.exists():
        keys = json.loads(keys_file.read_text())
        print(f"reusing {db}")
    else:
        keys = build_store(db, args.items, args.transitions)
        keys_file.write_text(json.dumps(keys))
        print(f"built {db} in {time.perf_counter() - t0:.1f} s")
    print(
        f"store: {keys['items']:,} items, {keys['transitions']:,} transitions, "
        f"{keys['changes']:,} changes; as of {AS_OF.date()}"
    )
    config = write_config(work / "pulse.toml", db)
    os.environ["PULSE_BENCH_TOKEN"] = "bench"
    from pulse.settings import load_settings

    settings: Settings = load_settings(config)
    store = open_store(settings.store.url)
    as_of = AS_OF
    by = date(2026, 7, 31)
    cases: list[tuple[str, Callable[[], Any], list[str]]] = [
        ("risk (whole org)", lambda: risk(store, settings, as_of, limit=25), ["risk"]),
        (
            "risk --format json (all rows)",
            lambda: risk(store, settings, as_of).to_json(),
            ["risk", "--format", "json"],
        ),
        (
            f"risk --team {keys['team']}",
            lambda: risk(store, settings, as_of, RiskFilters(team=keys["team"])),
            ["risk", "--team", keys["team"]],
        ),
        (
            f"risk --epic {keys['epic']}",
            lambda: risk(store, settings, as_of, RiskFilters(epic=keys["epic"])),
            ["risk", "--epic", keys["epic"]],
        ),
        (
            f"risk --version '{keys['version']}'",
            lambda: risk(store, settings, as_of, RiskFilters(version=keys["version"])),
            ["risk", "--version", keys["version"]],
        ),
        (
            f"forecast {keys['epic']}",
            lambda: forecast(store, settings, keys["epic"], as_of),
            ["forecast", keys["epic"]],
        ),
        (
            f"forecast {keys['epic']} --by",
            lambda: forecast(store, settings, keys["epic"], as_of, by=by),
            ["forecast", keys["epic"], "--by", by.isoformat()],
        ),
        (
            f"show {keys['story']}",
            lambda: show(store, settings, keys["story"], as_of),
            ["show", keys["story"]],
        ),
    ]
    if not args.no_cold:
        _clear(store)
        with store.engine.connect() as conn:
            begin_snapshot(conn)
            org = compute(conn, settings, instant(as_of))
        steps = ", ".join(f"{k} {v:.2f}" for k, v in org.timings.items())
        print(f"whole-organisation analysis: {org.seconds:.1f} s ({steps}); {_load()}")
        print(
            f"  {len(org.roadmap):,} roadmap items, {len(org.items):,} work items at risk, "
            f"{len(org.teams)} teams; valid {org.valid_from:%H:%M:%S.%f}-{org.valid_to:%H:%M:%S.%f}"
        )
    as_of_arg = AS_OF.tz_convert(settings.report.timezone).strftime("%Y-%m-%dT%H:%M")
    bare, _ = _cli([sys.executable, "-c", "pass"], args.repeat)
    print(f"baseline: a bare `python -c pass` takes {bare:.3f} s (median)")
    print(
        f"{'question':<28} {'cold':>7} {'warm best':>9} {'median':>7} {'CLI cold':>8} "
        f"{'CLI warm':>8} {'÷ bare':>6} {'load':>5}"
    )
    worst = 0.0
    for name, call, cli_args in cases:
        cmd = [
            sys.executable,
            "-m",
            "pulse.cli",
            *cli_args,
            "--as-of",
            as_of_arg,
            "-c",
            str(config),
        ]
        cold = cli_cold = warm_text = ratio = "-"
        if not args.no_cold:
            _clear(store)
            t0 = time.perf_counter()
            call()
            cold = f"{time.perf_counter() - t0:6.2f}s"
            if not args.no_cli:
                _clear(store)
                cli_cold = _cli(cmd)[1]
        refresh_analysis(store, settings, as_of)  # the entry a sync would have stored
        best, median = _time(call, args.repeat)
        worst = max(worst, median)
        if not args.no_cli:
            whole, warm_text = _cli(cmd, args.repeat)
            worst = max(worst, whole)
            ratio = f"{whole / bare:5.1f}x"
        print(
            f"{name:<28} {cold:>7} {best:8.3f}s {median:6.3f}s {cli_cold:>8} "
            f"{warm_text:>8} {ratio:>6} {os.getloadavg()[0]:5.2f}"
        )
    start_up = _cli([sys.executable, "-m", "pulse.cli", "--help"], args.repeat)[1]
    print(f"{'pulse --help (start-up alone)':<28} {start_up}")
    print(_load())
    store.dispose()
    return 0 if worst < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
