"""Docs that cannot drift: every settings key is documented, and every documented key exists."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from pulse import settings

ROOT = Path(__file__).resolve().parents[1]
MODELS: list[type[BaseModel]] = [
    settings.StoreSettings,
    settings.ReportSettings,
    settings.ScheduleSettings,
    settings.JiraSource,
    settings.TrelloSource,
    settings.WorkflowSettings,
    settings.JiraFields,
    settings.TrelloFields,
]
NESTED = {"store", "report", "schedule", "sources", "workflow", "fields"}


def documented_keys() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))


def test_every_settings_key_is_documented() -> None:
    model_keys = {name for model in MODELS for name in model.model_fields} - NESTED
    assert model_keys - documented_keys() == set()


def test_every_documented_key_exists() -> None:
    model_keys = {name for model in MODELS for name in model.model_fields}
    assert documented_keys() - model_keys == set()


def test_readme_and_docs_links_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
