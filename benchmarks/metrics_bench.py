"""Benchmark of the metrics engine on synthetic data (not a timed test).

Run: ``python -m benchmarks.metrics_bench [--items 100000] [--transitions 1000000]``.
Prints the wall time of every calculator for one as_of over 100,000 items and ~1,000,000
transitions (plus sprints and field changes, and a year of stored weekly roadmap snapshots for
the week-over-week diff and calibration), the flow export of the same items, the peak RSS of
the process, and the time of a 10,000-trial x 200-roadmap-item Monte Carlo forecast (10 teams)
without and with scope growth. Targets: all metrics <= 20 s and <= 2 GB, each Monte Carlo <= 3 s.
The machine may be shared: note the load average (``uptime``) with the figures.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from pulse.reports.metrics.flow_export import flow_table
from pulse.reports.metrics.forecast import ForecastConfig
from pulse.reports.metrics.item_forecast import forecast_items
from pulse.reports.metrics.pipeline import MetricsConfig, MetricsInputs, compute_all, weekly
from pulse.reports.metrics.workflow import Column, Workflow

STATUSES = ["Backlog", "Ready", "In Progress", "Review", "Done"]
WORKFLOW = Workflow(
    columns=[Column(s, [s]) for s in STATUSES], committed="In Progress", done="Done"
)
AS_OF = pd.Timestamp("2026-06-01 08:00", tz="UTC")
DAY_MS = 86_400_000


def _ts(ms: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True))


def synthetic(n_items: int, n_transitions: int, seed: int = 7) -> MetricsInputs:
    """Synthetic Jira-like history: teams, epics, stories, sub-tasks, sprints, changes."""
    rng = np.random.default_rng(seed)
    teams = 20
    span_ms = 730 * DAY_MS
    end_ms = int(AS_OF.value // 1_000_000)
    start_ms = end_ms - span_ms

    team = rng.integers(0, teams, n_items)
    kind = rng.random(n_items)
    is_epic = kind < 0.02
    is_sub = (kind >= 0.02) & (kind < 0.10)
    created = np.sort(rng.integers(start_ms, end_ms + 20 * DAY_MS, n_items))
    ids = np.array([str(100000 + i) for i in range(n_items)], dtype=object)
    project = np.array([f"P{t}" for t in range(teams)], dtype=object)[team]
    keys = np.array(
        [f"{p}-{i}" for p, i in zip(project, range(n_items), strict=True)], dtype=object
    )
    epic_idx = np.flatnonzero(is_epic)
    epic_team = team[epic_idx]
    parent = np.full(n_items, None, dtype=object)
    stories = np.flatnonzero(~is_epic & ~is_sub)
    for t in range(teams):
        mine = stories[(team[stories] == t) & (rng.random(len(stories)) < 0.8)]
        epics_t = epic_idx[epic_team == t]
        if len(epics_t):
            parent[mine] = keys[rng.choice(epics_t, len(mine))]

    # transitions: a forward-biased random walk over the five columns, ~n_transitions in all
    per = rng.poisson(n_transitions / n_items, n_items)
    total = int(per.sum())
    owner = np.repeat(np.arange(n_items), per)
    steps = np.where(rng.random(total) < 0.82, 1, -1)
    first = np.r_[0, np.cumsum(per)[:-1]]
    grp_start = np.zeros(total, dtype=bool)
    grp_start[first[per > 0]] = True
    pos = np.zeros(total, dtype=np.int64)
    # the clipped walk is sequential per item: step k of every item at once
    rank = np.arange(total) - np.repeat(first, per)
    pos_prev = np.zeros(n_items, dtype=np.int64)
    for k in range(int(per.max()) if total else 0):
        sel = np.flatnonzero(rank == k)
        o = owner[sel]
        nxt = np.clip(pos_prev[o] + steps[sel], 0, 4)
        nxt = np.where(nxt == pos_prev[o], np.clip(pos_prev[o] + 1, 0, 4), nxt)
        pos[sel] = nxt
        pos_prev[o] = nxt
    gaps = rng.exponential(2.5 * DAY_MS, total).astype(np.int64) + 60_000
    gap_cum = np.cumsum(gaps)
    base = gap_cum[np.repeat(first, per)] - gaps[np.repeat(first, per)]
    at = created[owner] + (gap_cum - base)
    prev_pos = np.r_[0, pos[:-1]]
    prev_pos[grp_start] = 0
    names = np.array(STATUSES, dtype=object)
    to_status = names[pos]
    from_status = names[prev_pos]
    odd = rng.random(total) < 0.005
    to_status[odd] = "Blocked (legacy)"
    status_now = np.array(["Backlog"] * n_items, dtype=object)
    last = np.r_[first[1:] - 1, total - 1][per > 0]
    status_now[per > 0] = to_status[last]

    estimate = np.where(rng.random(n_items) < 0.7, rng.choice([1, 2, 3, 5, 8], n_items), np.nan)
    types = np.where(is_epic, "Epic", np.where(is_sub, "Sub-task", "Story"))
    due = np.where(
        is_epic & (rng.random(n_items) < 0.8), created + rng.integers(30, 200, n_items) * DAY_MS, -1
    )
    items = pd.DataFrame(
        {
            "source": "jira",
            "item_id": ids,
            "key": keys,
            "project": project,
            "team": np.array([f"team{t}" for t in range(teams)], dtype=object)[team],
            "type": types,
            "is_subtask": is_sub,
            "title": keys,
            "status": status_now,
            "created": _ts(created),
            "estimate": estimate.astype(float),
            "parent_key": parent,
            "due": pd.Series(
                pd.to_datetime(
                    np.where(due < 0, np.iinfo(np.int64).min, due * 1_000_000).astype(
                        "datetime64[ns]"
                    )
                )
            ).dt.tz_localize("UTC"),
            "deleted_at": pd.Series(pd.NaT, index=range(n_items), dtype="datetime64[ns, UTC]"),
            "url": keys,
        }
    )
    gone = rng.random(n_items) < 0.002
    items.loc[gone, "deleted_at"] = AS_OF - pd.Timedelta(days=3)
    transitions = pd.DataFrame(
        {
            "source": "jira",
            "item_id": ids[owner],
            "at": _ts(at),
            "from_status": from_status,
            "to_status": to_status,
        }
    )

    # sprints: two-week sprints on 14 scrum boards
    scrum = list(range(14))
    sp_rows = []
    sid = 1
    board_sprints: dict[int, list[tuple[str, int, int]]] = {}
    for b in scrum:
        t0 = start_ms
        while t0 < end_ms + 14 * DAY_MS:
            t1 = t0 + 14 * DAY_MS
            state = "closed" if t1 <= end_ms else ("active" if t0 <= end_ms else "future")
            sp_rows.append(
                {
                    "source": "jira",
                    "sprint_id": str(sid),
                    "board_id": str(b),
                    "name": f"B{b} S{sid}",
                    "state": state,
                    "start": t0,
                    "end": t1,
                    "complete": t1 if state == "closed" else None,
                }
            )
            board_sprints.setdefault(b, []).append((str(sid), t0, t1))
            sid += 1
            t0 = t1
    sprints = pd.DataFrame(sp_rows)
    for c in ("start", "end", "complete"):
        sprints[c] = pd.to_datetime(sprints[c], unit="ms", utc=True)
    boards = pd.DataFrame(
        {
            "source": "jira",
            "board_id": [str(b) for b in range(teams)],
            "name": [f"Board {b}" for b in range(teams)],
            "type": ["scrum" if b in scrum else "kanban" for b in range(teams)],
            "team": [f"team{b}" for b in range(teams)],
            "estimation": "customfield_10016",
        }
    )

    # sprint membership changes: stories of scrum teams join the sprint around their creation
    in_scrum = np.flatnonzero(np.isin(team, scrum) & ~is_epic)
    ch_item, ch_at, ch_field, ch_from, ch_to = [], [], [], [], []
    memb_item, memb_sprint = [], []
    for b in scrum:
        mine = in_scrum[team[in_scrum] == b]
        sp = board_sprints[b]
        starts = np.array([s[1] for s in sp])
        idx = np.clip(np.searchsorted(starts, created[mine]), 0, len(sp) - 1)
        carry = rng.random(len(mine)) < 0.2
        for i, k, cflag in zip(mine, idx, carry, strict=True):
            s_id, _s0, s1 = sp[k]
            ch_item.append(i)
            ch_at.append(created[i] + 3_600_000)
            ch_field.append("sprint")
            ch_from.append("")
            ch_to.append(s_id)
            final = s_id
            if cflag and k + 1 < len(sp):
                nxt = sp[k + 1][0]
                ch_item.append(i)
                ch_at.append(s1)
                ch_field.append("sprint")
                ch_from.append(s_id)
                ch_to.append(f"{s_id},{nxt}")
                final = f"{s_id},{nxt}"
            for s in final.split(","):
                memb_item.append(i)
                memb_sprint.append(s)
    # estimate changes, flags, parent moves
    re_est = np.flatnonzero(rng.random(n_items) < 0.3)
    for i in re_est:
        ch_item.append(i)
        ch_at.append(created[i] + 2 * DAY_MS)
        ch_field.append("estimate")
        ch_from.append("3")
        ch_to.append("" if np.isnan(estimate[i]) else str(int(estimate[i])))
    flagged = np.flatnonzero(rng.random(n_items) < 0.05)
    for i in flagged:
        ch_item.append(i)
        ch_at.append(created[i] + 4 * DAY_MS)
        ch_field.append("flagged")
        ch_from.append("")
        ch_to.append("Impediment")
        ch_item.append(i)
        ch_at.append(created[i] + 9 * DAY_MS)
        ch_field.append("flagged")
        ch_from.append("Impediment")
        ch_to.append("")
    moved = stories[rng.random(len(stories)) < 0.1]
    for i in moved:
        if parent[i] is not None:
            ch_item.append(i)
            ch_at.append(created[i] + DAY_MS)
            ch_field.append("parent")
            ch_from.append("")
            ch_to.append(parent[i])
    changes = pd.DataFrame(
        {
            "source": "jira",
            "item_id": ids[np.array(ch_item, dtype=np.int64)],
            "at": _ts(np.array(ch_at, dtype=np.int64)),
            "field": ch_field,
            "from_value": ch_from,
            "to_value": ch_to,
        }
    )
    item_sprints = pd.DataFrame(
        {
            "source": "jira",
            "item_id": ids[np.array(memb_item, dtype=np.int64)],
            "sprint_id": memb_sprint,
        }
    )
    vers = []
    for t in range(teams):
        for v in range(10):
            rel = start_ms + (v + 1) * 70 * DAY_MS
            vers.append(
                {
                    "source": "jira",
                    "version_id": f"{t}-{v}",
                    "project": f"P{t}",
                    "name": f"P{t} v{v}",
                    "released": rel <= end_ms,
                    "release_date": rel,
                }
            )
    versions = pd.DataFrame(vers)
    versions["release_date"] = pd.to_datetime(versions["release_date"], unit="ms", utc=True)
    tagged = stories[rng.random(len(stories)) < 0.3]
    vidx = np.clip((created[tagged] - start_ms) // (70 * DAY_MS), 0, 9)
    item_versions = pd.DataFrame(
        {
            "source": "jira",
            "item_id": ids[tagged],
            "version_id": [f"{t}-{v}" for t, v in zip(team[tagged], vidx, strict=True)],
        }
    )
    blk = rng.choice(stories, 2000)
    other = rng.choice(stories, 2000)
    links = pd.DataFrame(
        {
            "source": "jira",
            "item_id": ids[blk],
            "link_type": "Blocks",
            "direction": "inward",
            "other_key": keys[other],
        }
    )
    sync_runs = pd.DataFrame(
        {
            "source": ["jira", "trello"],
            "finished_at": pd.to_datetime(
                [AS_OF - pd.Timedelta(hours=1), AS_OF - pd.Timedelta(days=2)]
            ),
            "succeeded": [True, True],
        }
    )
    return MetricsInputs(
        items=items,
        transitions=transitions,
        changes=changes,
        sprints=sprints,
        item_sprints=item_sprints,
        boards=boards,
        versions=versions,
        item_versions=item_versions,
        links=links,
        sync_runs=sync_runs,
    )


def timed(work: Callable[[], Any]) -> tuple[Any, str, float]:
    """Run ``work``: its result, "x s wall, y s CPU" (CPU shows the cost on a busy shared
    machine) and the wall seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return result, f"{wall:.2f} s wall, {cpu:.2f} s CPU", wall


def bench_monte_carlo(
    growth: bool = False, trials: int = 10_000, roadmap_items: int = 200, teams: int = 10
) -> tuple[str, float]:
    """Timing (text, wall seconds) of one 'when' forecast of ``roadmap_items`` items x
    ``trials`` trials with the engine's per-item model: each item's share of its team, a chance
    of children nobody works on, and with ``growth`` a growth ratio drawn from 30 past items."""
    rng = np.random.default_rng(3)
    plan = pd.DataFrame(
        {
            "ri": np.arange(roadmap_items),
            "id": [f"r{i}" for i in range(roadmap_items)],
            "team": [f"t{i % teams}" for i in range(roadmap_items)],
            "kind": "epic",
            "remaining": rng.integers(1, 40, roadmap_items).astype(float),
            "share": rng.uniform(0.02, 0.5, roadmap_items),
            "dormant": rng.uniform(0.0, 0.3, roadmap_items),
        }
    )
    pools = {f"t{i}": rng.uniform(0.0, 0.8, 30) for i in range(teams)}
    samples = {f"t{i}": rng.poisson(6, 12).astype(float) for i in range(teams)}
    config = ForecastConfig(trials=trials, scope_growth=growth)
    _, text, wall = timed(
        lambda: forecast_items(plan, samples, config, pools, 0.05, keep_trials=True)
    )
    return text, wall


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / (1024 * 1024)


def main(argv: list[str] | None = None) -> int:
    """Generate data, run every calculator, print timings and memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    inputs = synthetic(args.items, args.transitions)
    gen = time.perf_counter() - t0
    print(
        f"synthetic data: {len(inputs.items):,} items, {len(inputs.transitions):,} transitions, "
        f"{len(inputs.changes):,} changes, {len(inputs.sprints):,} sprints "
        f"({gen:.1f} s to generate)"
    )
    rss_before = peak_rss_mb()
    config = MetricsConfig(
        workflows=WORKFLOW,
        tz="Europe/Berlin",
        sync_intervals={"jira": pd.Timedelta(hours=1), "trello": pd.Timedelta(hours=1)},
    )
    _, text, _ = timed(lambda: compute_all(inputs, config, AS_OF))
    print(f"all metrics (compute_all): {text}")
    timings: dict[str, float] = {}
    results, text, wall = timed(lambda: weekly(inputs, config, AS_OF, timings))
    for name, secs in timings.items():
        print(f"  {name:<20} {secs:7.2f} s")
    print(f"all metrics and last week from history (weekly): {text} (target <= 20 s)")
    print(
        f"peak RSS: {peak_rss_mb():.0f} MiB "
        f"(after data generation: {rss_before:.0f} MiB; target <= 2048)"
    )
    flow, text, _ = timed(lambda: flow_table(results.column_dates))
    print(f"flow export: {len(flow):,} rows, {text}")
    text, mc = bench_monte_carlo()
    print(f"Monte Carlo 10,000 trials x 200 roadmap items: {text} (target <= 3 s)")
    text, mc_growth = bench_monte_carlo(growth=True)
    print(f"  with scope growth (every effect on): {text} (target <= 3 s)")
    print(f"roadmap items forecast in the pipeline: {len(results.forecasts):,}")
    ok = wall <= 20 and peak_rss_mb() <= 2048 and max(mc, mc_growth) <= 3
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
