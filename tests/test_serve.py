"""`pulse serve` as a process: one per store, and a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
import pytest
from click.core import ParameterSource
from sqlalchemy import select

from pulse import clock
from pulse.connectors.runner import sync_source
from pulse.emulators.http import Fault
from pulse.store import Store, open_store, schema
from pulse.store.writes import load_cursor
from tests.connectors.jira_world import jira_world
from tests.store_snapshot import diff, snapshot

PULSE = [sys.executable, "-m", "pulse.cli"]
SMALL = {"seed": 5, "issues": 300, "projects": 3}


class Serving:
    """A `pulse serve` child whose stderr is collected line by line as it comes."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*PULSE, "serve", "--config", str(config), *args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10) -> tuple[int, float]:
        """Send the signal; the exit code and the seconds it took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=timeout + 5)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(5)
        return code, time.monotonic() - sent


@contextmanager
def serving(config: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Serving]:
    child = Serving(config, *args, env=env)
    try:
        yield child
    finally:
        if child.process.poll() is None:
            child.process.kill()
            child.process.wait()


def write_config(path: Path, url: str, body: str = "") -> Path:
    path.write_text(
        f'[store]\nurl = "{url}"\n\n[schedule]\nweekly_report = "{far_weekday()} 03:00"\n{body}',
        encoding="utf-8",
    )
    return path


def far_weekday() -> str:
    """A weekday three days from today, so no report is due (or missed) during a test."""
    return (clock.now() + timedelta(days=3)).strftime("%a").lower()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_second_serve_on_the_same_store_refuses(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'pulse.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    config = write_config(tmp_path / "pulse.toml", url)
    with serving(config, "--log-level", "info") as first:
        first.wait_for_line("pulse serve: running")
        second = subprocess.run(
            [*PULSE, "serve", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 3
        assert second.stderr.count("\n") == 1, second.stderr
        assert second.stderr.startswith(
            f"pulse: error: another `pulse serve` (pid {first.process.pid} on "
        )
        assert second.stderr.rstrip().endswith("already runs on this store; stop it first")
        code, seconds = first.stop(signal.SIGINT)
    assert code == 0 and seconds < 10
    assert "stopping on SIGINT" in "\n".join(first.lines)


def test_log_level_comes_from_the_option_then_pulse_option_then_config() -> None:
    from pulse.cli.main import cli
    from pulse.cli.serve_command import _level, serve

    root = click.Context(cli)
    root.params["log_level"] = "warning"
    root.set_parameter_source("log_level", ParameterSource.DEFAULT)
    context = click.Context(serve, parent=root)
    assert _level(context, None, "error") == "error"  # [schedule] log_level
    assert _level(context, "debug", "error") == "debug"  # pulse serve --log-level
    root.params["log_level"] = "info"
    root.set_parameter_source("log_level", ParameterSource.COMMANDLINE)
    assert _level(context, None, "error") == "info"  # pulse --log-level info serve
    assert _level(context, "debug", "error") == "debug"


def test_sigterm_mid_sync_commits_whole_pages_and_exits_0_within_10s(tmp_path: Path) -> None:
    with jira_world("cloud", **SMALL) as world:
        reference = open_store(f"sqlite:///{tmp_path / 'ref.db'}")
        assert sync_source(world.source, reference).ok
        user, token = world.emu.credentials
        db = tmp_path / "served.db"
        config = write_config(
            tmp_path / "pulse.toml",
            f"sqlite:///{db}",
            f'sync_every = "1h"\n\n[[sources]]\nname = "{world.source.name}"\nkind = "jira"\n'
            f'url = "{world.server.url}"\nuser = "{user}"\ntoken = "${{SERVE_TOKEN}}"\n'
            f"projects = {json.dumps(world.source.projects)}\npage_size = 25\n",
        )
        world.server.faults.inject(Fault("latency", seconds=0.3, count=10**6))
        with serving(config, "--log-level", "info", env={"SERVE_TOKEN": str(token)}) as child:
            store = open_store(f"sqlite:///{db}")
            deadline = time.monotonic() + 60
            mid_pass = False
            while time.monotonic() < deadline and child.process.poll() is None:
                with store.engine.connect() as conn:
                    keys = world.source.projects
                    states = [load_cursor(conn, 1, f"issues:{k}") for k in keys]
                if any(state.get("pass") for state in states):
                    mid_pass = True
                    break
                time.sleep(0.05)
            assert mid_pass, "the sync finished before it could be stopped mid-pass:\n" + (
                "\n".join(child.lines)
            )
            code, seconds = child.stop(signal.SIGTERM)
        log = "\n".join(child.lines)
        assert code == 0, log
        assert seconds < 10, f"took {seconds:.1f}s to stop"
        assert "stopping on SIGTERM" in log
        assert "job=sync:jira-cloud trigger=schedule status=interrupted" in log
        with store.engine.connect() as conn:
            (run,) = conn.execute(select(schema.sync_runs)).all()
        assert (run.status, run.trigger, run.job) == ("interrupted", "schedule", "sync")
        # Only whole pages: each project holds all its issues or a multiple of the page size.
        stored, expected = per_project(store), per_project(reference)
        assert 0 < sum(stored.values()) < sum(expected.values())
        for project, count in stored.items():
            assert count == expected[project] or count % 25 == 0, (project, count)
        world.server.faults.clear()
        resumed = sync_source(world.source, store)
        assert resumed.ok, resumed.line()
        assert diff(snapshot(reference), snapshot(store)) == ""
        store.dispose()
        reference.dispose()


def per_project(store: Store) -> Counter[str]:
    """Stored items per project key."""
    with store.engine.connect() as conn:
        query = select(schema.items.c.project_key)
        return Counter(str(row.project_key) for row in conn.execute(query))
