"""Dependencies: floors past known advisories, and the versions CI tested are the ones installed."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = Version(pinned)
    return pins


def test_floors_are_past_the_known_advisories() -> None:
    specs = {canonicalize_name(r.name): r.specifier for r in _requirements()}
    assert not specs["requests"].contains("2.32.3") and specs["requests"].contains("2.32.4")
    assert not specs["werkzeug"].contains("3.0.5") and specs["werkzeug"].contains("3.0.6")
    assert not specs["urllib3"].contains("3.0.0"), "urllib3 is bounded below 3"


def test_every_requirement_is_pinned_within_its_range_and_installed_as_pinned() -> None:
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement.specifier}"
        )
    for name, pinned in pins.items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            continue  # a platform-only dependency of another package
        assert installed == pinned, f"{name} {installed} is installed; CI tested {pinned}"


def test_make_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if re.search(r"pip install .*-e", line)]
    assert installs and all("-c constraints.txt" in line for line in installs)
