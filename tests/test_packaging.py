"""`pip install .` installs one import name, `pulse`, and nothing of the emulators' web stack
unless the `demo` extra is asked for."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tracked_sources(dest: Path) -> Path:
    """A copy of the checkout's sources, so the build sees what a clone holds and writes its
    build/ and egg-info beside nothing the running suite uses."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True)
    if listed.returncode != 0:  # not a git checkout: copy all but what git would ignore
        ignored = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "*.db*")
        return Path(shutil.copytree(REPO, dest / "src", ignore=ignored))
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel `pip install .` would install, built by the project's own build backend from a
    copy of this checkout (no index, no pip cache, nothing written into the checkout)."""
    sources = _tracked_sources(tmp_path_factory.mktemp("sources"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])",
            str(out),
        ],
        cwd=sources,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, (
        f"wheel build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    )
    (built,) = out.glob("pulse-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_installs_only_the_pulse_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"pulse"}
    names = set(wheel.namelist())
    for module in (
        "scheduler.py",
        "settings.py",
        "cli/main.py",
        "reports/metrics/pipeline.py",
        "store/migrations/env.py",
        "store/migrations/versions/0001_initial_normalized_schema.py",
        "py.typed",
    ):
        assert f"pulse/{module}" in names
    assert not any(
        n.startswith(("pulse/tests/", "pulse/benchmarks/", "pulse/docs/")) for n in names
    )


def test_the_runtime_requirements_hold_no_emulator_dependency(wheel: zipfile.ZipFile) -> None:
    (meta,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = Parser().parsestr(wheel.read(meta).decode()).get_all("Requires-Dist") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if r.lower().startswith(("werkzeug", "lark"))]
    demo = [r for r in requires if 'extra == "demo"' in r]
    assert sorted(r.split(">")[0].split("=")[0].strip().lower() for r in demo) == [
        "lark",
        "werkzeug",
    ]
