"""Sprint metrics reconstructed from a real sync equal what the emulator knows happened.

The emulator plans every sprint's history itself (mid-sprint additions and removals,
re-estimates, carry-over across sprints, issues done before the start) and records each
category's issues and points; Pulse must reconstruct them from the changelogs alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pulse.connectors.runner import sync_source
from pulse.reports.dataset import load_dataset
from pulse.reports.metrics.pipeline import compute_all
from pulse.settings import Settings
from pulse.store import open_store
from tests.connectors.jira_world import jira_world

CATEGORIES = ("committed", "added", "removed", "completed", "not_completed", "completed_outside")


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_every_sprint_matches_the_emulator(flavour: str, tmp_path: Path) -> None:
    with jira_world(flavour, seed=21, issues=900, projects=3) as world:
        store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
        assert sync_source(world.source, store).ok
        settings = Settings.model_validate(
            {"sources": [world.source.model_dump()], "report": {"timezone": "Europe/Berlin"}}
        )
        dataset = load_dataset(store, settings, pd.Timestamp(world.emu.clock.now()))
        report = compute_all(dataset.inputs, dataset.config, dataset.as_of).sprint_report
        truth = world.emu.truth.sprints
        started = {sid: s for sid, s in truth.items() if s.state != "future"}
        assert started, "the organisation must have started sprints"
        mismatches = []
        for sprint_id, expected in started.items():
            sid = str(sprint_id)
            for category in CATEGORIES:
                want = set(getattr(expected, f"{category}_ids"))
                got = report.ids(sid, category)
                if want != got:
                    mismatches.append(
                        f"sprint {sid} {category}: missing {want - got}, extra {got - want}"
                    )
            row = report.row(sid)
            for category in CATEGORIES:
                if row[category] != pytest.approx(getattr(expected, category)):
                    mismatches.append(
                        f"sprint {sid} {category}: {row[category]} != {getattr(expected, category)}"
                    )
        assert not mismatches, "\n".join(mismatches[:20])
