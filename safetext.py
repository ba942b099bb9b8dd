"""Text from Jira and Trello made inert for every output: terminal, CSV, JSON and the workbook.

Titles, board, list, label, sprint, version and epic names are data, written by anyone with
access to a board. Each writer passes them through here so none of them can act as a control
sequence (terminal), markup (rich), a formula (Excel opening a CSV or a cell) or reorder what
is around it (bidirectional overrides).
"""

from __future__ import annotations

import math
import re
from typing import Any

ELLIPSIS = "…"
# C0 controls except tab and newline, DEL, C1 controls (0x9b is a one-byte CSI on many
# terminals), bidirectional embeddings, overrides and isolates, lone surrogates.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# What Excel, LibreOffice and Google Sheets read as the start of a formula (OWASP's list).
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
# Characters JSON may carry raw that a terminal or editor acts on: DEL, C1, bidi controls.
_JSON_RAW_CONTROL = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas NA."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)  # NaT and NA compare unequal to themselves
    except (TypeError, ValueError):
        return False


def clean_text(value: Any, limit: int | None = None) -> str:
    """User text without control characters (tab and newline kept), cut to ``limit`` with '…'."""
    text = "" if is_missing(value) else str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL.sub("", text)
    if limit is not None and len(text) > limit:
        text = text[: limit - len(ELLIPSIS)] + ELLIPSIS
    return text


def one_line(value: Any, limit: int = 200) -> str:
    """Text for a terminal or log line: cleaned, whitespace folded, cut with '…'."""
    return clean_text(" ".join(clean_text(value).split()), limit)


def inert_tree(value: Any, limit: int = 300) -> Any:
    """A JSON-like document with every string made one clean line, for a terminal."""
    if isinstance(value, str):
        return one_line(value, limit)
    if isinstance(value, dict):
        return {k: inert_tree(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [inert_tree(v, limit) for v in value]
    return value


def csv_cell(value: Any, raw: bool = False) -> Any:
    """A CSV field: text cleaned and, unless ``raw``, formula-leading text prefixed with "'"
    (OWASP's CSV-injection defence) so a spreadsheet shows it instead of running it."""
    if not isinstance(value, str) or raw:
        return value
    text = clean_text(value)
    return "'" + text if text.startswith(FORMULA_LEAD) else text


def json_text(document: str) -> str:
    """JSON text with DEL, C1 and bidirectional controls escaped as \\uXXXX: the same value to
    a parser, inert on a terminal. (json.dumps escapes the C0 controls itself.)"""
    if document.isascii():  # DEL is the only one ASCII has: a replace, not a regex scan
        return document.replace("\x7f", "\\u007f")
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
