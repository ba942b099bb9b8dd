"""One loader, one pipeline: checked on the product's imports and calls.

- Only :mod:`pulse.reports.dataset` reads the store into the engine's input frames: no other product
  module builds ``MetricsInputs`` or uses the input frames' specs.
- No calculator is called outside the pipeline: the functions :mod:`pulse.reports.metrics.pipeline`
  runs as steps are imported by no product module outside :mod:`pulse.reports.metrics`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("reports", "cli", "store", "connectors", "scheduling")
INPUT_SPECS = {
    "ITEMS",
    "TRANSITIONS",
    "CHANGES",
    "SPRINTS",
    "ITEM_SPRINTS",
    "BOARDS",
    "VERSIONS",
    "ITEM_VERSIONS",
    "LINKS",
    "SYNC_RUNS",
}


def product_modules() -> dict[str, ast.Module]:
    """Every product module (not tests, benchmarks or emulators), parsed, by its path."""
    files = [p for d in PRODUCT for p in (ROOT / d).rglob("*.py")]
    files += [p for p in ROOT.glob("*.py")]
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in files}


def imported(tree: ast.Module) -> set[tuple[str, str]]:
    """(module, name) of every ``from module import name``, relative imports made absolute
    for reports.metrics (the only package checked by name)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = f"reports.metrics.{module}" if module else "pulse.reports.metrics"
            out |= {(module, alias.name) for alias in node.names}
    return out


def calculators() -> set[str]:
    """The functions the pipeline imports from its sibling modules (classes and constants
    are types and settings, not calculators)."""
    tree = ast.parse((ROOT / "reports/metrics/pipeline.py").read_text(encoding="utf-8"))
    names = {name for module, name in imported(tree) if module.startswith("reports.metrics.")}
    return {n for n in names if n[0].islower()}


def test_only_the_loader_builds_the_engines_input_frames() -> None:
    builders = set()
    for path, tree in product_modules().items():
        if path.startswith("reports/metrics/") or path == "reports/dataset.py":
            continue
        specs = {n for m, n in imported(tree) if m == "pulse.reports.metrics.frames"} & INPUT_SPECS
        calls = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        if specs or "MetricsInputs" in calls:
            builders.add(path)
    assert not builders, f"only reports/dataset.py may load the engine's frames: {builders}"


def test_no_calculator_is_called_outside_the_pipeline() -> None:
    steps = calculators()
    assert {"column_dates", "roadmap_scope", "item_risks", "history_baselines"} <= steps
    callers = {
        f"{path}: {name}"
        for path, tree in product_modules().items()
        if not path.startswith("reports/metrics/")
        for module, name in imported(tree)
        if module.startswith("pulse.reports.metrics") and name in steps
    }
    assert not callers, sorted(callers)
