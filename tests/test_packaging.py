"""`pip install .` installs one import name, `pulse`, and nothing of the emulators' web stack
unless the `demo` extra is asked for."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel `pip install .` would install, built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
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
