"""Every endpoint the Trello emulator serves answers what Atlassian's Trello spec describes.

Where the spec is incomplete or wrong, `pulse.emulators.trello.conformance` keeps a narrow,
documented
exception list; these tests also check that each exception is still needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from pulse.emulators.http import EmulatorServer
from pulse.emulators.trello import TrelloEmulator, TrelloSpec
from pulse.emulators.trello.app import _rules
from pulse.emulators.trello.conformance import (
    EXTRA_QUERY_PARAMS,
    RESPONSE_SCHEMAS,
    SCHEMA_PATCHES,
    TrelloConformance,
    spec_path,
)
from pulse.emulators.trello.testing import TrelloHttp

pytestmark = pytest.mark.xdist_group("trello_conformance")

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

# (app endpoint, spec path, concrete path template, query parameters)
READ_CASES: list[tuple[str, str, str, dict[str, str]]] = [
    ("member", "/members/{id}", "/members/me", {}),
    ("member", "/members/{id}", "/members/{me}", {"fields": "all"}),
    ("member_boards", "/members/{id}/boards", "/members/me/boards", {"filter": "all"}),
    ("member_boards", "/members/{id}/boards", "/members/me/boards", {"lists": "all"}),
    ("member_boards", "/members/{id}/boards/{filter}", "/members/me/boards/all", {}),
    ("board", "/boards/{id}", "/boards/{board}", {}),
    (
        "board",
        "/boards/{id}",
        "/boards/{short}",
        {"lists": "all", "labels": "all", "customFields": "true", "cards": "all"},
    ),
    ("board_lists", "/boards/{id}/lists", "/boards/{board}/lists", {"filter": "all"}),
    ("board_lists", "/boards/{id}/lists", "/boards/{board}/lists", {"cards": "open"}),
    ("board_lists", "/boards/{id}/lists/{filter}", "/boards/{board}/lists/closed", {}),
    (
        "board_cards",
        "/boards/{id}/cards",
        "/boards/{board}/cards",
        {"filter": "all", "fields": "all", "customFieldItems": "true"},
    ),
    (
        "board_cards",
        "/boards/{id}/cards/{filter}",
        "/boards/{board}/cards/visible",
        {"limit": "50", "before": "{card}", "attachments": "true", "checklists": "all"},
    ),
    ("board_cards", "/boards/{id}/cards/{idCard}", "/boards/{board}/cards/{card}", {}),
    (
        "board_actions",
        "/boards/{boardId}/actions",
        "/boards/{board}/actions",
        {"limit": "1000", "filter": "all"},
    ),
    (
        "board_actions",
        "/boards/{boardId}/actions",
        "/boards/{board}/actions",
        {"memberCreator": "false", "fields": "type,date,data", "since": "2026-06-01T00:00:00Z"},
    ),
    ("board_labels", "/boards/{id}/labels", "/boards/{board}/labels", {"limit": "1000"}),
    ("board_members", "/boards/{id}/members", "/boards/{board}/members", {"fields": "all"}),
    ("board_custom_fields", "/boards/{id}/customFields", "/boards/{board}/customFields", {}),
    ("board_checklists", "/boards/{id}/checklists", "/boards/{board}/checklists", {}),
    ("board_field", "/boards/{id}/{field}", "/boards/{board}/dateLastActivity", {}),
    (
        "card",
        "/cards/{id}",
        "/cards/{card}",
        {"customFieldItems": "true", "attachments": "true", "checklists": "all"},
    ),
    ("card_actions", "/cards/{id}/actions", "/cards/{card}/actions", {"filter": "all"}),
    ("card_checklists", "/cards/{id}/checklists", "/cards/{card}/checklists", {}),
    ("card_attachments", "/cards/{id}/attachments", "/cards/{card}/attachments", {}),
    ("card_custom_items", "/cards/{id}/customFieldItems", "/cards/{card}/customFieldItems", {}),
    ("card_plugin_data", "/cards/{id}/pluginData", "/cards/{card}/pluginData", {}),
    ("card_board", "/cards/{id}/board", "/cards/{card}/board", {}),
    ("card_list", "/cards/{id}/list", "/cards/{card}/list", {}),
    ("card_members", "/cards/{id}/members", "/cards/{card}/members", {}),
    ("card_field", "/cards/{id}/{field}", "/cards/{card}/due", {}),
    ("list", "/lists/{id}", "/lists/{list}", {}),
    ("list_cards", "/lists/{id}/cards", "/lists/{list}/cards", {}),
    ("list_board", "/lists/{id}/board", "/lists/{list}/board", {}),
    ("action", "/actions/{id}", "/actions/{action}", {}),
]

# (app endpoint, HTTP method, spec path, concrete path template, query parameters)
WRITE_CASES: list[tuple[str, str, str, str, dict[str, str]]] = [
    ("card_create", "POST", "/cards", "/cards", {"idList": "{list}", "name": "New ✨"}),
    ("card_update", "PUT", "/cards/{id}", "/cards/{card}", {"idList": "{other_list}"}),
    ("card_field_update", "PUT", "/cards/{id}/{field}", "/cards/{card}/name", {"value": "R"}),
    (
        "card_comment",
        "POST",
        "/cards/{id}/actions/comments",
        "/cards/{card}/actions/comments",
        {"text": "=1+1"},
    ),
    ("card_delete", "DELETE", "/cards/{id}", "/cards/{card}", {}),
    ("list_closed", "PUT", "/lists/{id}/closed", "/lists/{list}/closed", {"value": "true"}),
]


@pytest.fixture(scope="module")
def conformance() -> TrelloConformance:
    path = spec_path()
    if not path.exists():
        pytest.skip(f"Trello OpenAPI spec not found at {path} (set PULSE_SPECS_DIR)")
    return TrelloConformance.load(path)


@pytest.fixture(scope="module")
def emu() -> TrelloEmulator:
    return TrelloEmulator(TrelloSpec(seed=13, cards=300, now=NOW, rate_limits=False))


@pytest.fixture(scope="module")
def server(emu: TrelloEmulator) -> Iterator[EmulatorServer]:
    with emu.serve() as running:
        yield running


@pytest.fixture(scope="module")
def api(emu: TrelloEmulator, server: EmulatorServer) -> Iterator[TrelloHttp]:
    client = TrelloHttp(server.url, emu.key, emu.token)
    yield client
    client.close()


def _ids(emu: TrelloEmulator) -> dict[str, str]:
    """Ids to fill the path templates: a rich card (checklists, attachments, custom fields)."""
    board = emu.truth.board("Design Delivery")
    card = next(
        c
        for c in board.cards.values()
        if c.checklist_total and c.linked_jira_keys and c.custom_fields and c.due
    )
    world_board = emu.world.boards[board.id]
    return {
        "me": emu.me_id,
        "board": board.id,
        "short": world_board.short_link,
        "card": card.id,
        "list": card.list_id,
        "other_list": next(lst for lst in board.lists if lst != card.list_id),
        "action": world_board.actions[-1].id,
    }


def _fill(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def _check(conformance: TrelloConformance, method: str, spec: str, body: Any) -> None:
    errors = conformance.validate(method, spec, body)
    assert not errors, f"{method} {spec}: " + "; ".join(errors[:5])


@pytest.mark.parametrize(
    ("endpoint", "spec", "template", "params"),
    READ_CASES,
    ids=[f"{case[0]}:{case[2]}:{','.join(case[3])}" for case in READ_CASES],
)
def test_read_endpoints_answer_as_the_spec_says(
    conformance: TrelloConformance,
    emu: TrelloEmulator,
    api: TrelloHttp,
    endpoint: str,
    spec: str,
    template: str,
    params: dict[str, str],
) -> None:
    ids = _ids(emu)
    query = {name: _fill(value, ids) for name, value in params.items()}
    body = api.json(_fill(template, ids), **query)
    if isinstance(body, list) and endpoint != "card_plugin_data":  # no Power-Ups: always []
        assert body, "an empty list would validate vacuously"
    _check(conformance, "get", spec, body)
    assert not conformance.undeclared_params("get", spec, query)


def test_write_endpoints_answer_as_the_spec_says(conformance: TrelloConformance) -> None:
    emu = TrelloEmulator(TrelloSpec(seed=14, cards=60, now=NOW, rate_limits=False))
    with emu.serve() as server:
        api = TrelloHttp(server.url, emu.key, emu.token)
        for _endpoint, method, spec, template, params in WRITE_CASES:
            ids = _ids(emu)
            query = {name: _fill(value, ids) for name, value in params.items()}
            response = api.request(method, _fill(template, ids), params=query)
            assert response.status_code == 200, (method, template, response.text)
            _check(conformance, method.lower(), spec, response.json())
            assert not conformance.undeclared_params(method, spec, query)
        api.close()


def test_every_route_has_a_conformance_case() -> None:
    endpoints = {rule.endpoint for rule in _rules().iter_rules()}
    covered = {case[0] for case in READ_CASES} | {case[0] for case in WRITE_CASES}
    assert endpoints == covered


def test_every_card_and_action_of_a_board_validates(
    conformance: TrelloConformance, emu: TrelloEmulator, api: TrelloHttp
) -> None:
    for board in emu.truth.boards.values():
        cards = api.json(
            f"/boards/{board.id}/cards", filter="all", customFieldItems="true", attachments="true"
        )
        _check(conformance, "get", "/boards/{id}/cards", cards)
        actions: list[dict[str, Any]] = []
        before = None
        while True:
            page = api.json(
                f"/boards/{board.id}/actions", limit=1000, **({"before": before} if before else {})
            )
            actions.extend(page)
            if len(page) < 1000:
                break
            before = page[-1]["id"]
        assert len(actions) == board.action_count
        _check(conformance, "get", "/boards/{boardId}/actions", actions)


def test_the_validator_is_not_vacuous(conformance: TrelloConformance) -> None:
    bad_card = {"id": "not-an-id", "closed": "no", "labels": [{"color": "mauve"}], "pos": "1"}
    errors = conformance.validate("get", "/cards/{id}", bad_card)
    assert len(errors) >= 4
    bad_action = [{"id": "5abbe4b7ddc1b351ef961414", "date": "yesterday", "data": {"card": 1}}]
    assert len(conformance.validate("get", "/boards/{boardId}/actions", bad_action)) == 2
    assert conformance.undeclared_params("get", "/boards/{id}/cards", ["limit", "bogus"]) == {
        "bogus"
    }


def test_each_exception_is_still_needed(conformance: TrelloConformance) -> None:
    raw = conformance.raw
    for method, path in RESPONSE_SCHEMAS:
        op = raw["paths"].get(path, {}).get(method)
        content = (op or {}).get("responses", {}).get("200", {}).get("content")
        assert not content, f"the spec now declares a body for {method.upper()} {path}"
    for (method, path), extra in EXTRA_QUERY_PARAMS.items():
        item = raw["paths"].get(path, {})
        declared = {
            p["name"]
            for p in [*item.get("parameters", []), *(item.get(method) or {}).get("parameters", [])]
        }
        assert not extra & declared, f"{method.upper()} {path} now declares {extra & declared}"
    schemas = raw["components"]["schemas"]
    for pointer, replacement, why in SCHEMA_PATCHES:
        node: Any = schemas
        for part in pointer.split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        assert node != replacement, f"{pointer} is already right in the spec ({why})"
