"""`pulse demo` and `pulse emulate`: Pulse end to end against its built-in emulators."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pulse.cli.common import EXIT_FAILED, fail
from pulse.safetext import one_line

if TYPE_CHECKING:
    from pulse.settings import Settings
    from pulse.store import Store

DEMO_MARKER = ".pulse-demo"  # written into the demo directory: the only kind `demo` deletes
SCALES = ("large", "medium", "small")  # emulators.playground.SCALES, without importing them


@click.command()
@click.option(
    "--dir",
    "workdir",
    default="pulse-demo",
    show_default=True,
    help="Where the demo store, config and workbook go.",
)
@click.option("--seed", default=7, show_default=True, help="Seed of the generated organisation.")
@click.option("--scale", type=click.Choice(SCALES), default="medium", show_default=True)
def demo(workdir: str, seed: int, scale: str) -> None:
    """Start the emulators, sync them, write the Monday workbook, show the top risks.

    Everything runs in this process on loopback ports and stops when the demo ends.

    \b
    Examples:
      pulse demo
      pulse demo --scale small --dir /tmp/pulse-demo
    """
    from pulse.cli.progress import BarProgress
    from pulse.connectors.runner import sync_source
    from pulse.emulators.playground import playground
    from pulse.settings import load_settings
    from pulse.store import open_store

    started = time.monotonic()
    root = Path(workdir).resolve()
    _clear_previous_demo(root)
    with playground(seed=seed, scale=scale) as world:  # type: ignore[arg-type]
        click.echo(
            f"Emulators up: Jira Cloud at {world.jira_url}, Trello at {world.trello_url} "
            f"({world.item_count} items, 6 months of history, planted risks)",
            err=True,
        )
        config = root / "pulse.toml"
        config.write_text(
            world.config(f"sqlite:///{root / 'pulse.db'}", str(root / "reports")), encoding="utf-8"
        )
        os.environ.update(world.environment())
        settings = load_settings(config)
        store = open_store(settings.store.url)
        failed = False
        for source in settings.sources:
            with BarProgress(source.name) as bars:
                result = sync_source(source, store, full=True, progress=bars, trigger="demo")
            click.echo(one_line(result.line(), 1000), err=not result.ok)
            failed |= not result.ok
    if failed:
        raise SystemExit(EXIT_FAILED)
    from pulse.reports.workbook import write_weekly

    report = write_weekly(settings, store)
    click.echo(report.headline)
    _print_top_risks(store, settings)
    click.echo(f"Workbook: {report.path}")
    click.echo(f"Demo store and config in {root} ({time.monotonic() - started:.0f}s)")
    click.echo(f"Explore: {_pulse()} risk --config {config}   (or status, show KEY, forecast KEY)")


def _clear_previous_demo(root: Path) -> None:
    """Make ``root`` an empty demo directory. Only a directory an earlier demo made (it holds
    the marker file) is removed; any other directory that is not empty is refused, so
    `pulse demo --dir .` never deletes a real project's store."""
    marker = root / DEMO_MARKER
    if marker.is_file():
        shutil.rmtree(root)
    elif root.exists() and (not root.is_dir() or any(root.iterdir())):
        fail(
            f"--dir {root} exists and was not made by `pulse demo`: name a new or empty directory",
            EXIT_FAILED,
        )
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text("Made by `pulse demo`; the next demo in this directory replaces it.\n")


def _pulse() -> str:
    """How to run `pulse` from here: `pulse` when that is on PATH and is this Pulse, else the
    path of this environment's script (e.g. .venv/bin/pulse on a fresh clone)."""
    script = Path(sys.executable).parent / "pulse"
    found = shutil.which("pulse")
    if found and script.exists() and Path(found).resolve() == script.resolve():
        return "pulse"
    if not script.exists():
        return f"{sys.executable} -m pulse.cli"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _print_top_risks(store: Store, settings: Settings, limit: int = 5) -> None:
    """The five most severe roadmap risks, one line each, as `pulse risk` ranks them: the
    workbook Summary's top five."""
    from pulse.reports.queries.risk import risk

    answer = risk(store, settings)
    high = sum(1 for row in answer.rows if row["level"] == "high")
    click.echo(f"Top risks ({len(answer.rows)} at risk, {high} high):")
    roadmap = [row for row in answer.rows if row["kind"] != "item"]
    for row in roadmap[:limit]:
        reasons = ", ".join(row["reasons"])
        evidence = row["evidence"][0]["text"] if row["evidence"] else ""
        key, evidence = one_line(row["key"], 20), one_line(evidence, 200)
        click.echo(f"  {row['level']:<6} {key:<10} {reasons}: {evidence}")


@click.command()
@click.option("--jira-port", default=0, show_default=True, help="0 picks a free port.")
@click.option("--trello-port", default=0, show_default=True, help="0 picks a free port.")
@click.option("--seed", default=7, show_default=True)
@click.option("--scale", type=click.Choice(SCALES), default="medium", show_default=True)
@click.option("--store", "store_url", default="sqlite:///pulse-emulated.db", show_default=True)
def emulate(jira_port: int, trello_port: int, seed: int, scale: str, store_url: str) -> None:
    """Run the Jira and Trello emulators until Ctrl-C, and print a config that reads them.

    \b
    Examples:
      pulse emulate --scale small > emulated.toml   (the secrets are printed on stderr)
      pulse emulate --jira-port 9100 --trello-port 9200 --seed 3
    """
    from pulse.emulators.playground import playground

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with playground(seed=seed, scale=scale, jira_port=jira_port, trello_port=trello_port) as world:  # type: ignore[arg-type]
        click.echo(world.config(store_url, "reports"))
        exports = " ".join(f"{name}={value}" for name, value in world.environment().items())
        click.echo(f"# Emulating {world.item_count} items. Set the secrets, then sync:", err=True)
        click.echo(f"export {exports}", err=True)
        click.echo(
            "pulse sync --config emulated.toml   # Ctrl-C here stops the emulators", err=True
        )
        stop.wait()
