"""The numbers the workbook shows, arranged from the engine's results for one report week.

Nothing here defines a metric: week-over-week figures re-apply the engine's own calculators
(:func:`pulse.reports.metrics.flow.percentiles`, :func:`pulse.reports.metrics.sprints.velocity`) to
the
engine's per-item and per-sprint outputs cut at last week's boundary, and roadmap rows join the
snapshot, timeline, baselines and week-over-week diff the engine produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from pulse.reports.freshness import freshness_line, freshness_warnings
from pulse.reports.metrics.flow import percentiles
from pulse.reports.metrics.health import held_open
from pulse.reports.metrics.roadmap import ROADMAP_TYPES
from pulse.safetext import one_line

from .cells import STATUS_ORDER
from .context import ReportContext

Better = Literal["up", "down", "none"]


@dataclass(frozen=True)
class Kpi:
    """One headline figure with last week's value for comparison."""

    label: str
    current: float | None
    previous: float | None
    unit: str
    better: Better
    note: str = ""
    decimals: int = 0

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def verdict(self) -> Literal["good", "bad", "flat", "none"]:
        """Whether the change is an improvement (by the KPI's direction)."""
        change = self.change
        if change is None or self.better == "none":
            return "none"
        if abs(change) < 1e-9:
            return "flat"
        up = change > 0
        return "good" if up == (self.better == "up") else "bad"


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _kind_label(kind: str, source_kind: str) -> str:
    if kind == "version":
        return "Version"
    if source_kind == "trello" or kind == "card":
        return "Trello card"
    return "Epic"


class Figures:
    """Derived, display-ready frames and figures for one report (computed once, on demand)."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.results = ctx.results

    # -- roadmap ------------------------------------------------------------------------------

    @cached_property
    def roadmap(self) -> pd.DataFrame:
        """One row per roadmap item shown: open ones, and those done in the look-back window."""
        ctx = self.ctx
        snap = self.results.snapshot.copy()
        timeline = self.results.roadmap_timeline
        keys = ["source", "roadmap_id"]
        tl = timeline[
            [*keys, "created_day", "started_day", "done_day", "target_day", "p50", "p85"]
        ].rename(columns={"p50": "p50_day", "p85": "p85_day"})
        frame = snap.merge(tl, on=keys, how="left")
        frame["p95_day"] = ctx.local_days(frame["p95"])
        visible = (frame["status"] != "done") | (frame["done_day"] >= ctx.window_start)
        frame = frame[visible.to_numpy(dtype=bool)].copy()
        base = self.results.baselines
        if base is not None and len(base):
            b = base[[*keys, "baseline_scope", "baseline_target"]].copy()
            b["baseline_target_day"] = ctx.local_days(b["baseline_target"])
            frame = frame.merge(b.drop(columns="baseline_target"), on=keys, how="left")
        else:
            frame["baseline_scope"] = np.nan
            frame["baseline_target_day"] = pd.NaT
        frame["scope_vs_baseline"] = frame["scope"] - frame["baseline_scope"]
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["growth_pct"] = np.where(
                frame["baseline_scope"] > 0,
                frame["scope_vs_baseline"] / frame["baseline_scope"],
                np.nan,
            )
        frame["pct"] = frame["pct_complete"] / 100.0
        frame["slip_days"] = (frame["p85_day"] - frame["target_day"]).dt.days
        kinds = ctx.source_kinds
        frame["kind_label"] = [
            _kind_label(str(k), kinds.get(str(s), ""))
            for k, s in zip(frame["kind"], frame["source"], strict=True)
        ]
        diff = self.results.snapshot_diff
        if diff is not None and len(diff):
            d = diff[
                [
                    *keys,
                    "change",
                    "summary",
                    "status_before",
                    "p85_slip_days",
                    "scope_delta",
                    "new_risks",
                    "cleared_risks",
                ]
            ]
            frame = frame.merge(d, on=keys, how="left")
            frame["change"] = frame["change"].fillna("new")
            frame["summary"] = frame["summary"].fillna("new on the roadmap")
        else:
            frame["change"] = "unknown"
            frame["summary"] = "no change"
            for col in ("status_before", "new_risks", "cleared_risks"):
                frame[col] = None
            frame["p85_slip_days"] = np.nan
            frame["scope_delta"] = np.nan
        frame["url"] = ctx.roadmap_urls(frame)
        rank = {s: i for i, s in enumerate(STATUS_ORDER)}
        frame["status_rank"] = frame["status"].map(rank).fillna(len(rank))
        return frame.reset_index(drop=True)

    @cached_property
    def dropped(self) -> pd.DataFrame:
        """Roadmap items in last week's snapshot that are gone this week."""
        diff = self.results.snapshot_diff
        if diff is None or len(diff) == 0:
            return pd.DataFrame(columns=["source", "roadmap_id", "key", "title", "team"])
        return diff[diff["change"] == "dropped"].reset_index(drop=True)

    @cached_property
    def risks(self) -> pd.DataFrame:
        """Open roadmap items with a reason code or an at-risk/off-track status, worst first."""
        rm = self.roadmap
        open_ = rm["status"] != "done"
        flagged = rm["reasons"].fillna("").astype(str).str.len() > 0
        risky = rm["status"].isin(["at risk", "off track"])
        out = rm[(open_ & (flagged | risky)).to_numpy(dtype=bool)]
        out = out.sort_values(["severity", "key"], ascending=[False, True], kind="stable")
        out = out.reset_index(drop=True)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        out["first_evidence"] = [
            str(e).split("\n", 1)[0] if isinstance(e, str) else "" for e in out["evidence"]
        ]
        return out

    @cached_property
    def held_open(self) -> pd.DataFrame:
        """Open roadmap items held open only by untouched children (METRICS §5: hygiene, counted
        and listed apart from late work), with those children and the p85 if they were closed."""
        rm = self.roadmap
        held = held_open(rm[(rm["status"] != "done").to_numpy(dtype=bool)])
        keys = ["source", "roadmap_id"]
        stale = self.results.forecasts[[*keys, "stale_keys", "p85_if_closed"]]
        out = held.merge(stale, on=keys, how="left")
        out["untouched"] = [", ".join(k) if isinstance(k, list) else "" for k in out["stale_keys"]]
        out["untouched_count"] = [len(k) if isinstance(k, list) else 0 for k in out["stale_keys"]]
        out["p85_if_closed_day"] = self.ctx.local_days(out["p85_if_closed"])
        return out.sort_values("key", kind="stable").reset_index(drop=True)

    @cached_property
    def item_risks(self) -> pd.DataFrame:
        """The pipeline's work-item risk rows, most severe first (as `pulse risk` ranks them)."""
        out = self.results.item_risks.sort_values(
            ["severity", "key"], ascending=[False, True], kind="stable"
        ).reset_index(drop=True)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        out["due_day"] = pd.to_datetime(out["due"])
        out["url"] = [
            self.ctx.item_urls.get((str(s), str(i)), "")
            for s, i in zip(out["source"], out["item_id"], strict=True)
        ]
        return out

    @cached_property
    def status_counts(self) -> pd.DataFrame:
        """Roadmap items per status this week and last week (from last week's snapshot)."""
        now = self.roadmap["status"].value_counts()
        prev_counts: pd.Series | None = None
        prev = self.results.previous_snapshot
        if prev is not None:
            start = self.ctx.window_start - pd.Timedelta(days=7)
            done_day = self.ctx.local_days(prev["done_at"])
            keep = (prev["status"] != "done") | (done_day >= start)
            prev_counts = prev[keep.to_numpy(dtype=bool)]["status"].value_counts()
        rows = []
        for status in STATUS_ORDER:
            cur = int(now.get(status, 0))
            before = int(prev_counts.get(status, 0)) if prev_counts is not None else None
            rows.append({"status": status, "now": cur, "before": before})
        return pd.DataFrame(rows)

    # -- delivery -----------------------------------------------------------------------------

    def _week_totals(self, monday: pd.Timestamp) -> tuple[float, float]:
        weekly = self.results.throughput_weekly
        part = weekly[weekly["week"] == monday]
        return float(part["items"].sum()), float(part["points"].sum())

    @cached_property
    def _completed(self) -> pd.DataFrame:
        cd = self.results.cycle_data
        folded = {t.casefold() for t in ROADMAP_TYPES}
        keep = cd["completed"].to_numpy(dtype=bool) & ~cd["type"].astype(str).str.casefold().isin(
            folded
        ).to_numpy(dtype=bool)
        return cd[keep]

    def _cycle(self, end: pd.Timestamp, team: str | None = None) -> dict[float, float]:
        """p50/p85/p95 of cycle time over items done in the ``weeks`` weeks before ``end``."""
        done = self._completed
        start = end - pd.Timedelta(days=7 * self.ctx.weeks)
        sel = (done["done_day"] >= start) & (done["done_day"] < end)
        if team is not None:
            sel &= done["team"] == team
        return percentiles(done.loc[sel.to_numpy(dtype=bool), "cycle_days"].astype("float64"))

    @property
    def velocity_now(self) -> pd.DataFrame:
        return self.results.velocity

    @property
    def velocity_before(self) -> pd.DataFrame:
        return self.results.velocity_week_ago

    @cached_property
    def kpis(self) -> list[Kpi]:
        ctx = self.ctx
        items, points = self._week_totals(ctx.last_week)
        items0, points0 = self._week_totals(ctx.week_before)
        now = self._cycle(ctx.monday)
        before = self._cycle(ctx.last_week)
        w = ctx.weeks
        v_now = self.velocity_now
        v_before = self.velocity_before
        est_now = v_now[v_now["statistic"] == "estimate"]["velocity"]
        est_before = v_before[v_before["statistic"] == "estimate"]["velocity"]
        wip = self.results.ageing_wip
        return [
            Kpi("Items delivered", items, items0, "items", "up", "completed in the week"),
            Kpi("Points delivered", points, points0, "points", "up", "estimates of those items"),
            Kpi(
                "Cycle time p50",
                _num(now[0.5]),
                _num(before[0.5]),
                "days",
                "down",
                f"items done in the last {w} weeks",
                1,
            ),
            Kpi(
                "Cycle time p85",
                _num(now[0.85]),
                _num(before[0.85]),
                "days",
                "down",
                f"85% of items finish within this (last {w} weeks)",
                1,
            ),
            Kpi(
                "Velocity (Scrum teams)",
                float(est_now.sum()) if len(est_now) else None,
                float(est_before.sum()) if len(est_before) else None,
                "points",
                "up",
                "sum of team velocities, mean of each team's last 3 sprints",
                1,
            ),
            Kpi(
                "Work in progress",
                float(len(wip)),
                None,
                "items",
                "none",
                f"{int(wip['over_p85'].sum())} older than their team's p85 cycle time",
            ),
        ]

    @cached_property
    def teams(self) -> pd.DataFrame:
        """Per team: delivered last week and the week before, cycle p85, velocity, WIP."""
        ctx = self.ctx
        weekly = self.results.throughput_weekly
        last = weekly[weekly["week"] == ctx.last_week].groupby("team")["items"].sum()
        before = weekly[weekly["week"] == ctx.week_before].groupby("team")["items"].sum()
        wip = self.results.ageing_wip
        wip_n = wip.groupby("team").size()
        old_n = wip[wip["over_p85"].to_numpy(dtype=bool)].groupby("team").size()
        v_now = self.velocity_now.groupby("team")["velocity"].sum()
        v_before = self.velocity_before.groupby("team")["velocity"].sum()
        teams = sorted(set(weekly["team"].astype(str)) | set(wip["team"].astype(str)))
        pct = self.results.percentiles.set_index("team")
        rows = []
        for team in teams:
            p = {q: pct[f"p{round(q * 100)}"].get(team, np.nan) for q in (0.5, 0.85)}
            rows.append(
                {
                    "team": team,
                    "delivered": int(last.get(team, 0)),
                    "delivered_change": int(last.get(team, 0)) - int(before.get(team, 0)),
                    "cycle_p50": _num(p[0.5]),
                    "cycle_p85": _num(p[0.85]),
                    "velocity": _num(v_now.get(team)),
                    "velocity_change": (
                        _num(v_now.get(team, np.nan) - v_before.get(team, np.nan))
                        if team in v_now
                        else None
                    ),
                    "wip": int(wip_n.get(team, 0)),
                    "ageing": int(old_n.get(team, 0)),
                }
            )
        return pd.DataFrame(rows)

    # -- freshness and the headline -----------------------------------------------------------

    @cached_property
    def warnings(self) -> list[str]:
        """One line per source that is stale, never synced, or whose last sync failed."""
        return freshness_warnings(self.ctx.sources)

    @cached_property
    def headline(self) -> str:
        """The report in one line: delivery, roadmap health, top risk, freshness."""
        ctx = self.ctx
        kpi = self.kpis[0]
        items = int(kpi.current or 0)
        change = kpi.change
        delta = f" ({int(change):+d} vs the week before)" if change is not None else ""
        counts = self.status_counts.set_index("status")["now"]
        held = int((self.held_open["status"] == "off track").sum())
        apart = f" ({held} of them held open only by untouched children)" if held else ""
        parts = [
            f"Week of {ctx.week:%d %b %Y}: {items} items delivered last week{delta}",
            f"roadmap {int(counts.get('off track', 0))} off track{apart}, "
            f"{int(counts.get('at risk', 0))} at risk, {int(counts.get('on track', 0))} on track",
        ]
        if len(self.risks):
            top = self.risks.iloc[0]
            parts.append(f"top risk {one_line(top['key'], 40)} ({top['status']})")
        if self.warnings:
            parts.append(freshness_line(self.ctx.sources))
        return one_line("; ".join(parts), 400)
