"""`pulse risk`, `pulse forecast KEY`, `pulse show KEY`: delivery questions answered from the store.

The commands only parse options, open the store and call :mod:`pulse.reports.queries`; rendering
(rich tables that fit 80 columns, JSON, CSV) is here. Nothing heavy is imported before a command
runs, and a question answered from the stored analysis needs neither pandas nor the engine.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from pulse.cli.common import checked_as_of, config_option, fail, load, open_configured_store
from pulse.safetext import csv_cell, inert_tree, json_text

if TYPE_CHECKING:
    from rich.console import Console

TABLE_LIMIT = 25  # rows a risk table shows by default: a roadmap row can take 20 lines
MAX_TRIALS = 200_000  # a forecast's trials: p95 is stable long before; 10^8 exhausts memory
LEVEL_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}
STATUS_STYLE = {"off track": "bold red", "at risk": "yellow", "no target": "magenta"}


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date (use YYYY-MM-DD)")


as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Answer as the store knew it at the end of DATE (report zone). Default: now.",
)


raw_option = click.option(
    "--raw",
    is_flag=True,
    help="CSV: write text exactly as stored. By default control characters are dropped and "
    "text starting with = + - @ gets a leading ' so a spreadsheet never runs it.",
)


def _console() -> Console:
    """Prints text as text: no markup, emoji codes or highlighting is read from what it prints
    (titles are data); documents are passed through :func:`pulse.safetext.inert_tree` first."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False, markup=False, emoji=False)


def _run(call: Any) -> Any:
    """The question's answer; a spinner on stderr while it computes when that is a terminal
    (a new as-of on a big store takes seconds); a QueryError is one line and exit 2."""
    from contextlib import nullcontext

    from pulse.reports.queries.errors import QueryError

    waiting: Any = nullcontext()
    if sys.stderr.isatty():
        from rich.console import Console

        waiting = Console(stderr=True).status("answering…", spinner="dots")
    try:
        with waiting:
            return call()
    except QueryError as exc:
        fail(str(exc))


def _emit_json(doc: dict[str, Any]) -> None:
    """Indented for a terminal; compact for a pipe or file, where Python's C encoder writes
    the whole organisation's 21,000 risk rows five times faster than the indenting one."""
    import json

    indent = 2 if sys.stdout.isatty() else None
    click.echo(json_text(json.dumps(doc, indent=indent, ensure_ascii=False)))


def _emit_json_text(text: str) -> None:
    """Compact JSON text as it is for a pipe or file, indented for a terminal."""
    if sys.stdout.isatty():
        import json

        _emit_json(json.loads(text))
    else:
        click.echo(json_text(text))


# -- pulse risk -------------------------------------------------------------------------------


@click.command("risk")
@config_option
@as_of_option
@click.option("--source", default=None, help="Only this configured source.")
@click.option("--project", default=None, help="Only this Jira project key or Trello board id.")
@click.option("--team", default=None, help="Only this team.")
@click.option("--epic", default=None, metavar="KEY", help="Only this epic or roadmap card.")
@click.option("--version", "version", default=None, help="Only this fix version (by name).")
@click.option("--due-before", default=None, metavar="DATE", help="Only targets before DATE.")
@click.option("--reason", default=None, metavar="CODE", help="Only rows with this reason code.")
@click.option(
    "--min-severity",
    default="low",
    show_default=True,
    metavar="LEVEL",
    help="low | medium | high: hide rows below this level.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=TABLE_LIMIT,
    show_default=True,
    help="Table: show the N most severe rows (0: all). JSON and CSV always hold every row.",
)
@click.option(
    "--compact",
    is_flag=True,
    help="Table: one line per item (key, level, status, reasons, title) instead of evidence.",
)
@raw_option
def risk_command(
    config: str,
    as_of: str | None,
    source: str | None,
    project: str | None,
    team: str | None,
    epic: str | None,
    version: str | None,
    due_before: str | None,
    reason: str | None,
    min_severity: str,
    fmt: str,
    limit: int,
    compact: bool,
    raw: bool,
) -> None:
    """At-risk roadmap and work items, most severe first, with reasons and evidence.

    Roadmap items (epics, versions, Trello roadmap cards) carry their health status and the
    forecast; work items carry what is wrong with them (blocked, stalled, ageing, overdue,
    unestimated in a sprint). Reason codes: OVERDUE FORECAST_LATE SCOPE_GROWTH STALLED BLOCKED
    LATE_DEPENDENCY AGING_WIP UNESTIMATED NO_TARGET.

    \b
    Examples:
      pulse risk
      pulse risk --version 2026.12 --min-severity medium
      pulse risk --team Web --reason BLOCKED --format csv > blocked.csv
      pulse risk --compact --limit 0           one line per item
      pulse risk --as-of 2026-11-02 --format json | jq '.rows[0]'
    """
    from pulse.cli.names import canonical, canonical_key, catalog
    from pulse.reports.queries.risk import RiskFilters, risk

    settings = load(config)
    due = _parse_day(due_before, "--due-before") if due_before else None
    store = open_configured_store(settings)
    when = checked_as_of(store, as_of, settings.report.timezone)
    known = catalog(store, settings)
    filters = RiskFilters(
        source=canonical(source, known.source_ids),
        project=canonical(project, {p for _, p, _ in known.projects}),
        team=canonical(team, {t for _, _, t in known.projects}),
        epic=canonical_key(store, epic) if epic else None,
        version=canonical(version, {v[4] for v in known.versions}),
        due_before=due,
        reason=reason.upper() if reason else None,
        min_severity=min_severity.lower(),
    )
    shown = (limit or None) if fmt == "table" else None  # a script gets every row
    answer = _run(lambda: risk(store, settings, when, filters, limit=shown, catalog=known))
    if fmt == "json":
        _emit_json_text(answer.to_json_text())
        return
    doc = answer.to_json()
    if fmt == "csv":
        write_risk_csv(doc, sys.stdout, raw)
    elif compact:
        print_risk_compact(inert_tree(doc), _console(), limit)
    else:
        print_risk(inert_tree(doc), _console(), limit)


RISK_CSV = [
    "kind",
    "source",
    "key",
    "title",
    "team",
    "project",
    "status",
    "level",
    "severity",
    "reasons",
    "evidence",
    "target",
    "p50",
    "p85",
    "p95",
    "scope",
    "remaining",
    "baseline_scope",
    "parent",
    "url",
]


def write_risk_csv(doc: dict[str, Any], stream: Any, raw: bool = False) -> None:
    """One row per risk; reasons joined by ';', evidence sentences by ' | '; text cleaned and
    formula-like text quoted unless ``raw`` (:func:`pulse.safetext.csv_cell`)."""
    import csv

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(RISK_CSV)
    for row in doc["rows"]:
        out = dict(row)
        out["reasons"] = ";".join(row["reasons"])
        out["evidence"] = " | ".join(e["text"] for e in row["evidence"])
        out["baseline_scope"] = (row["baseline"] or {}).get("scope")
        writer.writerow(["" if out[c] is None else csv_cell(out[c], raw) for c in RISK_CSV])


def _local_date(doc: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(doc["as_of"]).astimezone(ZoneInfo(doc["timezone"]))
    return moment.strftime("%Y-%m-%d")


def _risk_summary(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    lv = s["by_level"]
    return (
        f"{s['rows']} at risk ({lv['high']} high, {lv['medium']} medium, {lv['low']} low; "
        f"{s['roadmap_items']} roadmap items) as of {_local_date(doc)}"
    )


def print_risk(doc: dict[str, Any], console: Console, limit: int = 0) -> None:
    """The risk table: one row per item, evidence folded under the reasons; with ``limit``,
    only the first (most severe) rows and a line saying how many more there are."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="Delivery risk",
        title_justify="left",
        show_lines=True,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("item", overflow="fold", max_width=20)
    table.add_column("status", overflow="fold", max_width=10)
    table.add_column("dates", overflow="fold", max_width=15)
    table.add_column("reasons and evidence", overflow="fold", ratio=1)
    shown = doc["rows"][:limit] if limit else doc["rows"]
    for row in shown:
        item = Text(row["key"], style="bold")
        item.append(f"\n{row['kind']} · {row['team']}", style="dim")
        title = row["title"] if len(row["title"]) <= 40 else row["title"][:39] + "…"
        if title != row["key"]:  # a version is named by its title: once is enough
            item.append(f"\n{title}")
        status = Text(row["status"], style=STATUS_STYLE.get(row["status"], ""))
        status.append(f"\n{row['level']}", style=LEVEL_STYLE[row["level"]])
        dates = Text()
        if row["target"]:
            dates.append(f"target {row['target']}")
        if row["p85"]:
            dates.append(f"\np85 {row['p85']}")
        if row["remaining"] is not None:
            dates.append(f"\n{row['remaining']}/{row['scope']} open")
        why = Text()
        for k, ev in enumerate(row["evidence"]):
            if k:
                why.append("\n")
            why.append(ev["code"], style="bold")
            why.append(f" {ev['text']}")
        table.add_row(item, status, dates, why)
    if doc["rows"]:
        console.print(table)
    _print_risk_footer(doc, console, len(shown))


def print_risk_compact(doc: dict[str, Any], console: Console, limit: int = 0) -> None:
    """One line per item: level, key, status, reason codes, then the title cut to fit."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_header=True, title_justify="left")
    table.add_column("level", no_wrap=True, min_width=6)
    table.add_column("key", no_wrap=True, min_width=10, max_width=14, overflow="ellipsis")
    table.add_column("status", no_wrap=True, min_width=9, max_width=11, overflow="ellipsis")
    table.add_column("reasons", no_wrap=True, min_width=12, max_width=24, overflow="ellipsis")
    table.add_column("title", no_wrap=True, overflow="ellipsis")
    shown = doc["rows"][:limit] if limit else doc["rows"]
    for row in shown:
        table.add_row(
            row["level"],
            row["key"],
            row["status"],
            ",".join(row["reasons"]),
            row["title"],
            style=LEVEL_STYLE[row["level"]] if row["level"] == "high" else None,
        )
    if shown:
        console.print(table)
    _print_risk_footer(doc, console, len(shown))


def _print_risk_footer(doc: dict[str, Any], console: Console, shown: int) -> None:
    """How many rows the table left out, then the summary line."""
    hidden = doc["summary"]["rows"] - shown
    if hidden:
        console.print(
            f"… {hidden:,} more rows: narrow with filters (--team, --min-severity …), "
            "or see them all with --limit 0 or --format csv"
        )
    print_freshness(doc, console)
    console.print(_risk_summary(doc))


# -- pulse forecast ---------------------------------------------------------------------------


@click.command("forecast")
@config_option
@as_of_option
@click.argument("key", required=False)
@click.option("--by", "by", default=None, metavar="DATE", help="How many items done by DATE.")
@click.option(
    "--trials",
    type=int,
    default=None,
    help=f"Monte Carlo trials (default 10,000; at most {MAX_TRIALS:,}).",
)
@click.option("--source", default=None, help="The configured source, when several have KEY.")
@click.option(
    "--backtest",
    is_flag=True,
    help="Replay the last 26 Mondays: how often past p50/p85 dates held (no KEY).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def forecast_command(
    config: str,
    as_of: str | None,
    key: str | None,
    by: str | None,
    trials: int | None,
    source: str | None,
    backtest: bool,
    fmt: str,
) -> None:
    """When an epic, version or roadmap card will be done (p50/p85/p95), or how much by a date.

    KEY is an epic or Trello roadmap card key, or a fix version name (or id when the name is
    used in several projects). The forecast samples the owning team's weekly throughput of the
    last 12 weeks, the item's share of it from history and its scope growth, corrected by the
    store's track record (--backtest prints it: how often past p50/p85 dates held).

    \b
    Examples:
      pulse forecast WEB-412
      pulse forecast 2026.12 --by 2026-12-07
      pulse forecast WEB-412 --trials 2000 --format json | jq .forecast.p85
      pulse forecast --backtest --format json
    """
    from pulse.cli.names import canonical_key
    from pulse.reports.queries.forecast import forecast

    if trials is not None and trials > MAX_TRIALS:
        fail(f"--trials {trials:,} is too many (use at most {MAX_TRIALS:,})")
    settings = load(config)
    if backtest or key is None:
        if not backtest:
            fail("pulse forecast: give a KEY (an epic, version or roadmap card), or --backtest")
        _backtest(settings, as_of, fmt)
        return
    by_day = _parse_day(by, "--by") if by else None
    store = open_configured_store(settings)
    when = checked_as_of(store, as_of, settings.report.timezone)
    today = when.astimezone(ZoneInfo(settings.report.timezone)).date()
    if by_day is not None and by_day < today:
        fail(f"--by {by} is before the as-of date {today}: ask about a later date")
    key = canonical_key(store, key)
    answer = _run(lambda: forecast(store, settings, key, when, by_day, trials, source))
    doc = answer.to_json()
    if fmt == "json":
        _emit_json(doc)
    else:
        print_forecast(inert_tree(doc), _console())


def _bars(doc: dict[str, Any], width: int = 30, rows: int = 12) -> list[tuple[str, str, str]]:
    """Histogram rows (finish date, bar, cumulative %), merged to at most ``rows`` rows."""
    hist = doc["histogram"]
    if not hist:
        return []
    step = max(1, -(-len(hist) // rows))
    merged = []
    for k in range(0, len(hist), step):
        part = hist[k : k + step]
        merged.append(
            (part[-1]["date"], sum(h["trials"] for h in part), part[-1]["cumulative_pct"])
        )
    top = max(t for _, t, _ in merged) or 1
    return [(d, "█" * max(1, round(width * t / top)), f"{c:5.1f}%") for d, t, c in merged]


def _backtest(settings: Any, as_of: str | None, fmt: str) -> None:
    """`pulse forecast --backtest`: the store's track record, overall, per kind and per team."""
    from pulse.reports.queries.forecast import backtest

    store = open_configured_store(settings)
    when = checked_as_of(store, as_of, settings.report.timezone)
    doc = _run(lambda: backtest(store, settings, when))
    if fmt == "json":
        _emit_json(doc)
        return
    console = _console()
    console.print(
        f"Track record: {doc['mondays']} past Mondays, {doc['overall']['forecasts']} forecasts"
    )
    for row in [doc["overall"], *doc["by_kind"], *doc["by_team"]]:
        name = row.get("kind") or row.get("team") or "all"
        console.print(f"  {name:<12} {row['text']}")


def print_forecast(doc: dict[str, Any], console: Console) -> None:
    """Header, percentile dates, a small histogram, the --by answer and calibration."""
    from rich.table import Table
    from rich.text import Text

    console.print(
        Text.assemble(
            (doc["key"], "bold"),
            f" {doc['kind']} · {doc['team']} · {doc['title']}",
        )
    )
    target = doc["target"] or "none"
    console.print(
        f"scope {doc['scope']} items, {doc['done_items']} done, {doc['remaining']} open; "
        f"target {target}"
    )
    if doc["state"] == "done":
        console.print(f"done on {doc['done_at']}")
        print_freshness(doc, console)
        console.print(f"{doc['key']}: done on {doc['done_at']}; nothing to forecast")
        return
    fc = doc["forecast"]
    if fc:
        table = Table(show_header=True, box=None, pad_edge=False)
        for q in fc:
            table.add_column(q, justify="left")
        table.add_row(*[(fc[q] or "beyond horizon") for q in fc])
        console.print(table)
    console.print(
        f"{doc['trials']:,} trials; team throughput {doc['weeks']} weeks: "
        f"{', '.join(f'{x:g}' for x in doc['throughput'])}"
        + (f"; this item's share {doc['share']:.0%}" if doc["share"] is not None else "")
    )
    if doc.get("stale"):
        closed = (doc.get("if_closed") or {}).get("p85") or "beyond horizon"
        console.print(
            f"{len(doc['stale'])} untouched children ({', '.join(doc['stale'][:5])}); "
            f"if they were closed: p85 {closed}"
        )
    if doc.get("track_record"):
        console.print(f"track record of {doc['team']}'s forecasts: {doc['track_record']['text']}")
    bars = _bars(doc)
    if bars:
        hist = Table(title="finish week (trials)", title_justify="left", box=None, pad_edge=False)
        hist.add_column("by", no_wrap=True)
        hist.add_column("", no_wrap=True)
        hist.add_column("cum", justify="right", no_wrap=True)
        for d, bar, cum in bars:
            hist.add_row(d, bar, cum)
        console.print(hist)
    if doc["beyond_horizon"]:
        console.print(f"{doc['beyond_horizon']:,} trials did not finish within the horizon")
    if doc["by"]:
        b = doc["by"]
        console.print(
            f"by {b['date']}: at least {b['items_done']} of {b['remaining']} open items "
            f"({round(b['confidence'] * 100)}% confidence); all done in "
            f"{b['probability_all_done'] * 100:.1f}% of trials"
        )
    cal = doc["calibration"]
    if cal:
        rate = cal["hit_rate_p85"]
        shown = "n/a" if rate is None else f"{rate * 100:.0f}%"
        console.print(f"calibration: past p85 dates held {shown} of {cal['resolved']} resolved")
    else:
        console.print("calibration: no stored forecasts of this item yet")
    print_freshness(doc, console)
    if fc:
        console.print(
            f"{doc['key']}: p50 {fc.get('p50') or '—'}, p85 {fc.get('p85') or '—'}, target {target}"
        )
    else:
        console.print(f"{doc['key']}: no forecast")


# -- pulse show -------------------------------------------------------------------------------


@click.command("show")
@config_option
@as_of_option
@click.argument("key")
@click.option("--source", default=None, help="The configured source, when several have KEY.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def show_command(config: str, as_of: str | None, key: str, source: str | None, fmt: str) -> None:
    """One item's story: its columns and durations, sprints, blocked periods, links, and where
    it stands against its team's cycle-time percentiles.

    \b
    Examples:
      pulse show WEB-412
      pulse show WEB-412 --as-of 2026-10-01
      pulse show WEB-412 --format json | jq .cycle_time
    """
    from pulse.cli.names import canonical_key
    from pulse.reports.queries.show import show

    settings = load(config)
    store = open_configured_store(settings)
    when = checked_as_of(store, as_of, settings.report.timezone)
    story = _run(lambda: show(store, settings, canonical_key(store, key), when, source))
    doc = story.to_json()
    if fmt == "json":
        _emit_json(doc)
    else:
        print_show(inert_tree(doc), _console())


def print_show(doc: dict[str, Any], console: Console) -> None:
    """Header, column timeline, status history, sprints, blocked periods, links, percentiles."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text.assemble((doc["key"], "bold"), f" {doc['type']} · {doc['team']}"))
    console.print(doc["title"])
    facts = [
        f"status {doc['status']} ({doc['stage']})",
        f"epic {doc['epic'] or '—'}",
        f"estimate {doc['estimate'] if doc['estimate'] is not None else '—'}",
    ]
    if doc["versions"]:
        facts.append("versions " + ", ".join(doc["versions"]))
    if doc["due"]:
        facts.append(f"due {doc['due']}")
    console.print("; ".join(facts))
    cols = Table(title="columns", title_justify="left", box=None, pad_edge=False)
    cols.add_column("column", overflow="fold")
    cols.add_column("entered", no_wrap=True)
    cols.add_column("days", justify="right", no_wrap=True)
    for c in doc["columns"]:
        cols.add_row(c["column"], c["entered"] or "—", f"{c['days']:g}")
    console.print(cols)
    hist = Table(title="status history", title_justify="left", box=None, pad_edge=False)
    hist.add_column("since", no_wrap=True)
    hist.add_column("status", overflow="fold")
    hist.add_column("days", justify="right", no_wrap=True)
    for h in doc["history"]:
        hist.add_row(h["at"][:16].replace("T", " "), h["status"], f"{h['days']:g}")
    console.print(hist)
    if doc["sprints"]:
        names = [s["name"] + (" (now)" if s["member_at_as_of"] else "") for s in doc["sprints"]]
        console.print("sprints: " + ", ".join(names))
    for b in doc["blocked"]:
        until = "now (ongoing)" if b["ongoing"] else b["to"][:10]
        console.print(f"blocked {b['from'][:10]} → {until}: {b['days']:g} days")
    for link in doc["links"]:
        console.print(f"link: {link['direction']} {link['type']} {link['key']} ({link['stage']})")
    for c in doc["cross_links"]:
        plan = f"; {c['roadmap_key']} {c['roadmap_status']}" if c["roadmap_key"] else ""
        plan += f", p85 {c['p85']}" if c["p85"] else ""
        console.print(
            f"{c['direction']} {c['source']} {c['key']}: {c['status']} ({c['stage']}){plan}"
        )
    late = doc["late_work"]
    if late:
        since = f" since {late['since']}" if late["since"] else ""
        console.print(f"{doc['key']} is {late['status']}{since}; open children:")
        for k in late["children"]:
            age = "not started" if k["age_days"] is None else f"{k['age_days']} days"
            who = k["assignee"] or "unassigned"
            blocked = f", blocked by {', '.join(k['blocked_by'])}" if k["blocked_by"] else ""
            console.print(
                f"  {k['key']} {k['status']} ({k['column'] or '—'}), {age}, {who}{blocked}"
            )
    if doc["children"]:
        done = sum(1 for c in doc["children"] if c["stage"] == "done")
        console.print(f"children: {len(doc['children'])} ({done} done)")
    ct = doc["cycle_time"]
    team = ct["team"]
    if team["count"]:
        console.print(
            f"team {doc['team']} cycle time since {team['since']} ({team['count']} items): "
            f"p50 {team['p50']:g}, p85 {team['p85']:g}, p95 {team['p95']:g} days"
        )
    item = ct["item"]
    standing = ct["standing"]
    if item["days"] is not None and standing:
        line = (
            f"{doc['key']}: {item['what']} {item['days']} days, {standing['band']} "
            f"(longer than {standing['longer_than_pct']:g}% of the team's items)"
        )
    elif item["days"] is not None:
        line = f"{doc['key']}: {item['what']} {item['days']} days"
    else:
        line = f"{doc['key']}: {doc['stage']}"
    print_freshness(doc, console)
    console.print(line)


def print_freshness(doc: dict[str, Any], console: Console) -> None:
    """The workbook's "DATA NOT FRESH: …" line for the same as-of, when a source is not fresh."""
    from rich.text import Text

    line = (doc.get("freshness") or {}).get("line")
    if line:
        console.print(Text(line, style="bold"))


COMMANDS = (risk_command, forecast_command, show_command)
