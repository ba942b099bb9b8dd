"""The connector contract: the documented skeleton is the real one, satisfies the Protocol,
registers like Jira and Trello, and syncs page by page with its cursor."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from pulse.connectors.base import Connector, SyncContext
from pulse.connectors.http_policy import SyncInterrupted
from pulse.connectors.registry import Registration, connector_for, registrations
from pulse.settings import Settings, source_model
from pulse.store import Store, open_store
from pulse.store.cursors import load_cursor
from pulse.store.sources import register_source
from tests.connectors import skeleton
from tests.connectors.skeleton import REGISTRATION, ExampleConnector, ExampleSource, Record

ROOT = Path(__file__).resolve().parents[2]
SOURCE = {"kind": "example", "name": "demo", "url": "https://example.test", "project": "WEB"}


def documented_skeleton() -> str:
    """The python block of docs/connectors.md that follows the skeleton's heading."""
    doc = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    found = re.search(r"## A skeleton connector\n.*?```python\n(.*?)```", doc, re.S)
    assert found, "docs/connectors.md has no skeleton connector"
    return found.group(1)


def test_the_documented_skeleton_is_the_tested_module() -> None:
    assert documented_skeleton() == Path(skeleton.__file__).read_text(encoding="utf-8")


@pytest.mark.parametrize("registration", [*registrations(), REGISTRATION], ids=lambda r: r.kind)
def test_every_connector_satisfies_the_protocol_and_names_its_kind(
    registration: Registration,
) -> None:
    connector = registration.load()
    assert isinstance(connector, Connector)
    assert connector.kind == registration.kind
    assert registration.settings.model_fields["kind"].annotation.__args__ == (registration.kind,)


def test_the_registry_gives_the_configuration_each_kinds_settings() -> None:
    kinds = [r.kind for r in registrations()]
    assert kinds == ["jira", "trello"] and len(set(kinds)) == len(kinds)
    parsed = TypeAdapter(source_model((*registrations(), REGISTRATION))).validate_python(SOURCE)
    assert isinstance(parsed, ExampleSource) and parsed.project == "WEB"
    # The configuration takes its models from the registry: an unregistered kind is refused.
    with pytest.raises(ValueError, match="example"):
        Settings.model_validate({"sources": [SOURCE]})
    with pytest.raises(KeyError, match="example"):
        connector_for("example")


def test_the_runner_dispatches_through_the_registry_only() -> None:
    runner = (ROOT / "connectors" / "runner.py").read_text(encoding="utf-8")
    assert "isinstance" not in runner
    assert "pulse.connectors.jira" not in runner and "pulse.connectors.trello" not in runner


class Pages:
    """The remote API of the example source: fixed pages, and the positions asked for."""

    def __init__(self, pages: list[list[Record]]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []

    def __call__(self, source: ExampleSource, after: str | None) -> tuple[list[Record], str | None]:
        self.asked.append(after)
        index = int(after or 0)
        nxt = str(index + 1) if index + 1 < len(self.pages) else None
        return self.pages[index], nxt


def record(n: int, updated: str = "2026-11-02T09:00:00+00:00") -> Record:
    return {
        "id": n,
        "key": f"WEB-{n}",
        "title": f"item {n}",
        "created": "2026-11-01T09:00:00+00:00",
        "updated": updated,
    }


def sync(store: Store, pages: Pages, stop: threading.Event | None = None) -> SyncContext[Any]:
    source = ExampleSource.model_validate(SOURCE)
    with store.transaction() as conn:
        source_id = register_source(conn, source.name, source.kind, source.url)
    context = SyncContext(source, store, source_id, stop=stop or threading.Event())
    ExampleConnector(fetch=pages).sync(context)
    return context


def test_the_skeleton_stores_each_page_with_its_cursor(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'pulse.db'}")
    pages = Pages([[record(1), record(2)], [record(3)]])
    stop = threading.Event()
    stop.set()  # stop after the first committed page
    with pytest.raises(SyncInterrupted):
        sync(store, pages, stop)
    with store.reading() as conn:
        assert load_cursor(conn, 1, "items:WEB") == {"after": "1"}
    resumed = sync(store, pages)
    assert pages.asked == [None, "1"]  # resumed after the stored page, not from the start
    assert (resumed.counts.new, resumed.counts.pages) == (1, 1)
    pages.pages[0][1] = record(2, updated="2026-11-03T09:00:00+00:00")
    again = sync(store, pages)
    assert (again.counts.new, again.counts.updated, again.counts.pages) == (0, 1, 2)
