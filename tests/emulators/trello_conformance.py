"""Checking the emulator's responses against Atlassian's Trello OpenAPI spec.

The spec (`trello-rest-api.swagger.v3.json`, found through `PULSE_SPECS_DIR`, by default
`<repo>/../shared/reference/specs`) is incomplete and in places wrong. Rather than skip those
endpoints, this module keeps a narrow, documented list of exceptions:

* `RESPONSE_SCHEMAS`: endpoints whose 200 response has no schema in the spec, and the
  component schema Trello's documentation says they return.
* `EXTRA_QUERY_PARAMS`: query parameters Trello accepts (nested-resources and paging guides,
  py-trello) that the spec does not declare for that operation.
* `SCHEMA_PATCHES`: component fields whose declared type or format contradicts what Trello
  sends (and what py-trello parses).
* Two general rules of OpenAPI 3.0 that the spec's authors evidently did not intend to hit:
  keywords beside `$ref` are ignored (we drop them, except that `"nullable": true` beside a
  `$ref` is honoured, since Trello sends null there), and since OAS 3.0.3 a nullable `enum`
  must list null itself (we add it: Trello sends `"color": null` for colourless labels).

Error bodies are not checked: Trello sends plain text (`invalid id`, `The requested resource
was not found.`), not the spec's `Error` object, and 429 bodies are not in the spec at all.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_FILE = "trello-rest-api.swagger.v3.json"
_ROOT = "urn:trello-spec"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


#: (method, spec path) -> schema to use where the spec declares no response body.
RESPONSE_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    # Nested-resources guide: GET /boards/{id}/cards returns Card objects.
    ("get", "/boards/{id}/cards"): _array("Card"),
    ("get", "/boards/{id}/cards/{filter}"): _array("Card"),
    # py-trello's board.get_card: /boards/{id}/cards/{idCard} returns one Card (not in spec).
    ("get", "/boards/{id}/cards/{idCard}"): _ref("Card"),
    ("get", "/boards/{id}/lists/{filter}"): _array("TrelloList"),
    ("get", "/boards/{boardId}/actions"): _array("Action"),
    ("get", "/boards/{id}/labels"): _array("Label"),
    ("get", "/boards/{id}/members"): _array("Member"),
    ("get", "/boards/{id}/checklists"): _array("Checklist"),
    ("get", "/cards/{id}/checklists"): _array("Checklist"),
    ("get", "/cards/{id}/board"): _ref("Board"),
    ("get", "/cards/{id}/list"): _ref("TrelloList"),
    ("get", "/cards/{id}/members"): _array("Member"),
    ("get", "/cards/{id}/pluginData"): _array("PluginData"),
    ("get", "/lists/{id}"): _ref("TrelloList"),
    ("get", "/lists/{id}/board"): _ref("Board"),
    ("put", "/lists/{id}/closed"): _ref("TrelloList"),
    ("get", "/actions/{id}"): _ref("Action"),
    # The `/{field}` routes answer {"_value": ...}.
    ("get", "/boards/{id}/{field}"): {"type": "object", "required": ["_value"]},
    # py-trello's setters use PUT /cards/{id}/{field} (value=...), not in the spec; Trello
    # answers with the card.
    ("put", "/cards/{id}/{field}"): _ref("Card"),
    ("delete", "/cards/{id}"): {"type": "object"},
    # /members/{id}/boards/{filter} (py-trello's info_for_all_boards) is not in the spec.
    ("get", "/members/{id}/boards/{filter}"): _array("Board"),
}

#: Parameters Trello accepts but the spec does not declare for the operation.
_CARD_PARAMS = {"fields", "customFieldItems", "attachments", "checklists", "members"}
_PAGING = {"limit", "before", "since"}
EXTRA_QUERY_PARAMS: dict[tuple[str, str], set[str]] = {
    ("get", "/boards/{id}/cards"): {"filter"} | _CARD_PARAMS | _PAGING,
    ("get", "/boards/{id}/cards/{filter}"): _CARD_PARAMS | _PAGING,
    ("get", "/boards/{id}/cards/{idCard}"): _CARD_PARAMS,
    ("get", "/boards/{id}/lists/{filter}"): {"cards", "fields", "card_fields"},
    ("get", "/boards/{id}/members"): {"filter", "fields"},
    ("get", "/boards/{id}/checklists"): {"cards", "checkItems", "fields"},
    ("get", "/cards/{id}"): {"badges"},
    ("get", "/cards/{id}/actions"): {"limit", "before", "since"},
    ("get", "/lists/{id}/cards"): {"filter"} | _CARD_PARAMS | _PAGING,
    ("get", "/members/{id}/boards/{filter}"): {"fields", "lists"},
    ("get", "/cards/{id}/checklists"): set(),
    # POST/PUT bodies: py-trello sends these as JSON, the spec lists query parameters.
    ("post", "/cards"): set(),
    ("put", "/cards/{id}"): set(),
    ("put", "/cards/{id}/{field}"): {"value", "idList"},
}

#: (JSON pointer into components/schemas, replacement, why).
SCHEMA_PATCHES: list[tuple[str, Any, str]] = [
    (
        "Card/properties/labels/items",
        _ref("Label"),
        "Trello returns label objects (py-trello's Card.from_json reads id/name/color); the "
        "spec says TrelloID strings.",
    ),
    (
        "Card/properties/due",
        {"type": "string", "format": "date-time", "nullable": True},
        "a timestamp such as 2026-11-20T12:00:00.000Z; the spec says format: date.",
    ),
    (
        "Card/properties/badges/properties/due",
        {"type": "string", "format": "date-time", "nullable": True},
        "as Card.due.",
    ),
    (
        "Card/properties/badges/properties/start",
        {"type": "string", "format": "date-time", "nullable": True},
        "as Card.due.",
    ),
    (
        "Board/properties/dateLastActivity",
        {"type": "string", "format": "date-time"},
        "a timestamp; the spec says format: date.",
    ),
    (
        "Attachment/properties/date",
        {"type": "string", "format": "date-time"},
        "a timestamp (the spec's own example is one); the spec says format: date.",
    ),
    (
        "Attachment/properties/bytes",
        {"type": "integer", "nullable": True},
        "the size of an upload in bytes (null for links); the spec says string.",
    ),
    (
        "CheckItem/properties/pos",
        {"type": "number"},
        "a number like every other pos; the spec says string (its example is a number).",
    ),
    (
        "Checklist/properties/checkItems",
        _array("CheckItem"),
        "the spec's Checklist declares only `id`; check items are validated as CheckItem.",
    ),
]


def specs_dir() -> Path:
    """Where the vendored specs live: $PULSE_SPECS_DIR or <repo>/../shared/reference/specs."""
    env = os.environ.get("PULSE_SPECS_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "reference" / "specs"


def spec_path() -> Path:
    """Path of the Trello spec file (it may not exist)."""
    return specs_dir() / SPEC_FILE


def _nullable_refs(node: Any) -> Any:
    """Apply the two general OAS 3.0 rules of the module doc to every schema."""
    if isinstance(node, dict):
        out = {key: _nullable_refs(value) for key, value in node.items()}
        if isinstance(out.get("$ref"), str):
            if out.get("nullable") is True:
                return {"anyOf": [{"$ref": out["$ref"]}, {"enum": [None]}]}
            return {"$ref": out["$ref"]}
        enum = out.get("enum")
        if out.get("nullable") is True and isinstance(enum, list) and None not in enum:
            out["enum"] = [*enum, None]
        return out
    if isinstance(node, list):
        return [_nullable_refs(item) for item in node]
    return node


def _patch(schemas: dict[str, Any], pointer: str, replacement: Any) -> None:
    parts = pointer.split("/")
    node = schemas
    for part in parts[:-1]:
        node = node[part]
    if parts[-1] not in node and parts[-2] != "properties":
        raise KeyError(pointer)
    node[parts[-1]] = copy.deepcopy(replacement)


class TrelloConformance:
    """Validates response bodies and query parameters against the (patched) Trello spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.raw = spec
        patched = copy.deepcopy(spec)
        schemas = patched["components"]["schemas"]
        for pointer, replacement, _why in SCHEMA_PATCHES:
            _patch(schemas, pointer, replacement)
        patched["components"] = _nullable_refs(patched["components"])
        self.spec = patched
        self._registry: Registry[Any] = Registry().with_resource(
            _ROOT, DRAFT4.create_resource(patched)
        )
        self._validators: dict[tuple[str, str], OAS30Validator] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> TrelloConformance:
        """Load the spec file (FileNotFoundError when it is missing)."""
        with open(path or spec_path(), encoding="utf-8") as handle:
            return cls(json.load(handle))

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        """The spec's operation object, or None when the spec lacks it."""
        item = self.spec["paths"].get(path)
        if item is None:
            return None
        result = item.get(method.lower())
        return result if isinstance(result, dict) else None

    def response_schema(self, method: str, path: str) -> dict[str, Any]:
        """The 200 schema for an operation: the spec's own, else the documented exception."""
        op = self.operation(method, path)
        if op is not None:
            content = op.get("responses", {}).get("200", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                return self._absolute(schema)
        key = (method.lower(), path)
        if key not in RESPONSE_SCHEMAS:
            raise LookupError(f"no response schema for {method.upper()} {path}")
        return self._absolute(RESPONSE_SCHEMAS[key])

    def validate(self, method: str, path: str, body: Any) -> list[str]:
        """Validation errors (empty when valid) of a 200 body for `METHOD path`."""
        key = (method.lower(), path)
        validator = self._validators.get(key)
        if validator is None:
            validator = OAS30Validator(
                self.response_schema(method, path),
                registry=self._registry,
                format_checker=oas30_format_checker,
            )
            self._validators[key] = validator
        return [
            f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(body)
        ]

    def undeclared_params(self, method: str, path: str, params: Iterable[str]) -> set[str]:
        """Query parameters neither declared by the spec nor in EXTRA_QUERY_PARAMS."""
        declared = {"key", "token"}
        item = self.spec["paths"].get(path, {})
        op = self.operation(method, path) or {}
        for param in [*item.get("parameters", []), *op.get("parameters", [])]:
            if param.get("in") == "query":
                declared.add(param["name"])
        declared |= EXTRA_QUERY_PARAMS.get((method.lower(), path), set())
        return set(params) - declared

    def _absolute(self, schema: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(schema).replace('"#/components/', f'"{_ROOT}#/components/')
        result: dict[str, Any] = _nullable_refs(json.loads(text))
        return result
