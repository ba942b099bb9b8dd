"""The real `pulse` as a user runs it, against a store the built-in emulators filled."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PULSE = [sys.executable, "-m", "pulse.cli"]


@dataclass(frozen=True)
class Demo:
    """A directory `pulse demo` made: its store and the config that reads it."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / "pulse.db"

    @property
    def config(self) -> Path:
        return self.root / "pulse.toml"

    def copy(self, target: Path) -> Demo:
        """A private copy (store and config) another test may change."""
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.store, target / "pulse.db")
        text = self.config.read_text(encoding="utf-8").replace(str(self.root), str(target))
        (target / "pulse.toml").write_text(text, encoding="utf-8")
        return Demo(target)


def make_demo(root: Path) -> Demo:
    """Run `pulse demo --scale small` into ``root``."""
    done = run("demo", "--scale", "small", "--dir", str(root), timeout=300)
    assert done.returncode == 0, done.stderr
    return Demo(root)


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`pulse ARGS` in a fresh process (no answer server), 80 columns, no credentials."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_DEMO_")}
    environment.update({"PULSE_NO_ANSWER_SERVER": "1", "COLUMNS": "80", "TERM": "dumb"})
    environment.update(env or {})
    return subprocess.run(
        [*PULSE, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    """Exit ``code``, exactly one line on stderr naming the error, no traceback; the line."""
    assert done.returncode == code, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip("\n").split("\n")
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("pulse: error: "), lines[0]
    return lines[0]


def tree(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` (SQLite's transient -wal/-shm aside) and its digest."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            out[str(path.relative_to(directory))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[str(path.relative_to(directory)) + "/"] = ""
    return out


@contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """Make files and directories unwritable for this user: chmod, or for root (whom modes do
    not stop) the immutable attribute; skip when neither is possible here."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(0o500 if p.is_dir() else 0o400)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a path unwritable")
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, check=False)
    if done.returncode:
        pytest.skip(f"chattr +i refused here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
