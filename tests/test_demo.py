"""`pulse demo` as a newcomer runs it: end to end, on loopback, leaving nothing running."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import openpyxl

from pulse.settings import load_settings


def summary_top_risks(path: Path) -> list[str]:
    """The keys of the Summary sheet's "Top 5 risks" grid."""
    ws = openpyxl.load_workbook(path)["Summary"]
    head = next(
        c.row for row in ws.iter_rows() for c in row if str(c.value).startswith("Top 5 risks")
    )
    keys = [ws.cell(row=head + 2 + k, column=1).value for k in range(5)]
    return [str(k) for k in keys if k]


def test_demo_syncs_both_tools_and_leaves_no_emulator_running(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "pulse.cli", "demo", "--scale", "small", "--dir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert re.search(r"acme-jira: \d+ new", output)
    assert re.search(r"design-trello: \d+ new", output)
    workbook = re.search(r"Workbook: (\S+\.xlsx)", output)
    assert workbook and Path(workbook.group(1)).is_file()
    assert Path(workbook.group(1)).parent == workdir / "reports"
    assert "Top risks" in output
    # the printed top five are the workbook Summary's: one engine, one ranking
    printed = re.findall(r"^  \w+\s+(\S+) ", output.split("Top risks", 1)[1], re.MULTILINE)
    assert printed and printed == summary_top_risks(Path(workbook.group(1)))[: len(printed)]
    # The command the demo suggests works as printed (the venv's bin is not on PATH on a fresh
    # clone), with no credentials in the environment.
    explore = re.search(r"Explore: (\S+) (risk --config \S+)", output)
    assert explore, output
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_DEMO_")}
    env["PATH"] = "/usr/bin:/bin"
    asked = subprocess.run(
        [explore.group(1), *explore.group(2).split()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert asked.returncode == 0, asked.stderr
    assert "at risk" in asked.stdout.splitlines()[-1]
    env = {
        line.split("=", 1)[0]: "x"
        for line in ("PULSE_DEMO_JIRA_TOKEN=", "PULSE_DEMO_TRELLO_KEY=", "PULSE_DEMO_TRELLO_TOKEN=")
    }
    settings = load_settings(workdir / "pulse.toml", env)
    assert [s.name for s in settings.sources] == ["acme-jira", "design-trello"]
    for url in re.findall(r"at (http://127\.0\.0\.1:\d+)", output):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"{url} still answers"
    # The secrets are never written to the config, only references to the environment.
    text = (workdir / "pulse.toml").read_text(encoding="utf-8")
    assert "${PULSE_DEMO_JIRA_TOKEN}" in text
    assert "token-" not in text


def test_emulate_prints_a_config_that_syncs_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import os
    import signal

    store = tmp_path / "emulated.db"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "emulate",
            "--scale",
            "small",
            "--store",
            f"sqlite:///{store}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stderr is not None and child.stdout is not None
        exports = ""
        while "export " not in exports:
            exports = child.stderr.readline()
            assert exports, "pulse emulate ended before printing its secrets"
        env = dict(pair.split("=", 1) for pair in exports.removeprefix("export ").split())
        config = tmp_path / "emulated.toml"
        lines = []
        while not lines or lines[-1].strip() != 'points = "Points"':
            lines.append(child.stdout.readline())
        config.write_text("".join(lines), encoding="utf-8")
        synced = subprocess.run(
            [sys.executable, "-m", "pulse.cli", "sync", "--config", str(config), "--no-progress"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=300,
            check=False,
        )
        assert synced.returncode == 0, synced.stderr
        assert re.search(r"acme-jira: \d+ new", synced.stdout)
        assert re.search(r"design-trello: \d+ new", synced.stdout)
    finally:
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 0
