"""Native Excel tables from frames: typed columns, safe text, links, widths, filters, banding.

A table is described by its columns (:class:`Col`): a header, the frame column it shows, and a
kind that decides how values are converted and formatted. :func:`write_table` writes the header
and rows, registers an Excel table (with its filter buttons), banding and status colours, and
returns where everything landed so charts and extra formatting can refer to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import CellIsRule, DataBarRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from . import cells as C

Kind = Literal[
    "text", "wrap", "int", "num", "pct", "date", "datetime", "status", "delta", "flag", "code"
]

# Excel allows 65,530 hyperlinks per sheet; a sheet holds at most two linked tables.
MAX_LINKS_PER_TABLE = 32_000
# Long item lists stop here (first rows in the sheet's order); a note says how many more.
MAX_LIST_ROWS = 50_000
_WIDTH_SAMPLE = 400
_FORMATS: dict[str, str] = {
    "int": C.INT,
    "num": C.NUM,
    "pct": C.PCT,
    "date": C.DATE,
    "datetime": C.DATETIME,
    "delta": C.DELTA,
}
_DEFAULT_WIDTH: dict[str, float] = {
    "int": 9,
    "num": 9,
    "pct": 8,
    "date": 11.5,
    "datetime": 16,
    "delta": 8,
    "flag": 6,
    "status": 11,
}


@dataclass(frozen=True)
class Col:
    """One table column: header text, frame column, kind, optional width and link column."""

    header: str
    field: str
    kind: Kind = "text"
    width: float | None = None
    url: str | None = None  # frame column with the http(s) link for this cell
    bold: bool = False


@dataclass(frozen=True)
class Placed:
    """Where a table landed: header row, data rows, columns (1-based), and its name."""

    name: str
    header_row: int
    first_row: int
    last_row: int
    first_col: int
    columns: tuple[str, ...]
    empty: bool

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.columns) - 1

    def col(self, field: str) -> int:
        """Sheet column number of a frame field."""
        return self.first_col + self.columns.index(field)

    def letter(self, field: str) -> str:
        return get_column_letter(self.col(field))

    def ref(self) -> str:
        return (
            f"{get_column_letter(self.first_col)}{self.header_row}:"
            f"{get_column_letter(self.last_col)}{self.last_row}"
        )

    def column_range(self, field: str) -> str:
        """Data cells of one column, e.g. 'D5:D40'."""
        letter = self.letter(field)
        return f"{letter}{self.first_row}:{letter}{self.last_row}"


def capped(frame: pd.DataFrame, limit: int | None = None) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` (default :data:`MAX_LIST_ROWS`) rows of a list, and how many more."""
    limit = MAX_LIST_ROWS if limit is None else limit
    if len(frame) <= limit:
        return frame, 0
    return frame.iloc[:limit].reset_index(drop=True), len(frame) - limit


def values_of(series: pd.Series, kind: Kind) -> list[Any]:
    """A frame column as the Python values a cell stores (None for missing)."""
    if kind in ("text", "wrap", "status", "code"):
        return [None if C.is_missing(v) else C.clean_text(v) for v in series.astype(object)]
    if kind in ("date", "datetime"):
        stamps = pd.to_datetime(series)
        if getattr(stamps.dt, "tz", None) is not None:
            raise ValueError(f"column {series.name!r}: convert to the report zone first")
        if kind == "date":
            stamps = stamps.dt.normalize()
        out = stamps.astype(object).where(stamps.notna(), None).tolist()
        if kind == "date":
            return [None if v is None else v.date() for v in out]
        return [None if v is None else v.to_pydatetime() for v in out]
    if kind == "flag":
        return ["⚠" if not C.is_missing(v) and bool(v) else None for v in series.astype(object)]
    numbers = pd.to_numeric(series.astype(object), errors="coerce").astype("float64")
    if kind in ("int", "delta"):
        return [None if np.isnan(v) else round(v) for v in numbers.to_numpy()]
    return [None if np.isnan(v) else float(v) for v in numbers.to_numpy()]


def _width(header: str, values: list[Any], kind: Kind, fixed: float | None) -> float:
    if fixed is not None:
        return fixed
    base = _DEFAULT_WIDTH.get(kind)
    header_w = min(len(header), 24) * 1.05 + 3  # room for the filter button
    if base is not None:
        return max(base, header_w)
    sample = [len(str(v).split("\n", 1)[0]) for v in values[:_WIDTH_SAMPLE] if v is not None]
    widest = float(max(sample)) if sample else 8.0
    cap = 60.0 if kind == "wrap" else 48.0
    return min(max(widest * 1.05 + 2, header_w, 8.0), cap)


def write_header(ws: Worksheet, row: int, col: int, headers: Sequence[str]) -> None:
    """A styled header row (navy, white bold text)."""
    for j, header in enumerate(headers):
        cell = C.put_text(ws, row, col + j, header, C.HEADER_FONT)
        cell.fill = C.HEADER_FILL
        cell.alignment = C.HEADER_ALIGN


_UNSTYLED = ("text", "code", "status", "int")


def _template(ws: Worksheet, kind: Kind, bold: bool) -> Any:
    """A style array to copy into every cell of a column (much faster than setting attributes),
    or None when the default style will do: unstyled cells are written about twice as fast,
    which matters for 100,000-item workbooks (status colours come from conditional formats)."""
    if kind in _UNSTYLED and not bold:
        return None
    probe = Cell(ws, row=1, column=1)  # detached: never added to the sheet
    fmt = _FORMATS.get(kind)
    if fmt and kind != "int":
        probe.number_format = fmt
    if kind == "wrap":
        probe.alignment = C.WRAP_TOP
    elif kind == "flag":
        probe.alignment = Alignment(horizontal="center")
        probe.font = Font(name=C.FONT, size=11, bold=True, color=C.BAD)
    if bold:
        probe.font = C.BOLD_FONT
    return copy(probe._style)


def write_table(
    ws: Worksheet,
    row: int,
    col: int,
    name: str,
    columns: Sequence[Col],
    frame: pd.DataFrame,
    empty: str = "Nothing to show this week.",
    band: bool = True,
    band_until: str | None = None,
) -> Placed:
    """Write ``frame`` as a native Excel table with its header at (row, col).

    An empty frame still gets a table (Excel needs one data row): a single note row. ``band``
    adds alternating row shading as conditional formatting (it survives sorting and filtering,
    and LibreOffice shows it too); ``band_until`` stops it before a field (e.g. a Gantt band).
    """
    headers = [c.header for c in columns]
    if len(set(headers)) != len(headers):  # Excel repairs (drops) a table with repeated names
        raise ValueError(f"table {name}: repeated column headers {headers}")
    write_header(ws, row, col, headers)
    first = row + 1
    n = len(frame)
    is_empty = n == 0
    if is_empty:
        C.put_text(ws, first, col, empty, C.NOTE_FONT)
        n = 1
    else:
        _write_rows(ws, first, col, columns, frame)
    last = first + n - 1
    placed = Placed(name, row, first, last, col, tuple(c.field for c in columns), is_empty)
    table = Table(displayName=name, ref=placed.ref())
    table.tableStyleInfo = TableStyleInfo(
        name="TableStyleLight1", showRowStripes=False, showColumnStripes=False
    )
    ws.add_table(table)
    for c in columns:
        letter = placed.letter(c.field)
        values = [] if is_empty else values_of(frame[c.field].iloc[:_WIDTH_SAMPLE], c.kind)
        width = _width(c.header, values, c.kind, c.width)
        dims = ws.column_dimensions
        # a column shared by two tables (stacked) keeps the wider of their widths
        if letter not in dims or width > (dims[letter].width or 0):
            dims[letter].width = width
    for c in columns:  # status colours first: earlier rules win over the banding
        if c.kind == "status" and not is_empty:
            add_status_colours(ws, placed.column_range(c.field))
    if band and not is_empty:
        stop = placed.col(band_until) - 1 if band_until else placed.last_col
        banded = f"{get_column_letter(col)}{first}:{get_column_letter(stop)}{last}"
        fill = PatternFill("solid", fgColor=C.LIGHT_BLUE, bgColor=C.LIGHT_BLUE)
        ws.conditional_formatting.add(
            banded, FormulaRule(formula=[f"MOD(ROW()-{first},2)=1"], fill=fill)
        )
    width_of = {c.field: ws.column_dimensions[placed.letter(c.field)].width or 10 for c in columns}
    lines = max(
        (wrapped_lines(c.header, width_of[c.field] - 2) for c in columns if c.kind != "code"),
        default=1,
    )
    ws.row_dimensions[row].height = max(30, 15 * min(lines, 4) + 2)
    if not is_empty:
        _fit_wrapped_rows(ws, placed, columns, frame, width_of)
    return placed


def _fit_wrapped_rows(
    ws: Worksheet,
    placed: Placed,
    columns: Sequence[Col],
    frame: pd.DataFrame,
    width_of: dict[str, float],
) -> None:
    """Give rows with wrapped text the height their lines need (viewers do not re-measure)."""
    wrapped = [c for c in columns if c.kind == "wrap"]
    if not wrapped:
        return
    need = np.ones(len(frame), dtype=np.int64)
    for c in wrapped:
        width = width_of[c.field]
        texts = frame[c.field].astype(object).tolist()
        lines = [wrapped_lines(t, width) if isinstance(t, str) and t else 1 for t in texts]
        need = np.maximum(need, np.asarray(lines, dtype=np.int64))
    for i in np.flatnonzero(need > 1):
        ws.row_dimensions[placed.first_row + int(i)].height = 15 * min(int(need[i]), 20)


def _write_rows(
    ws: Worksheet, first: int, col: int, columns: Sequence[Col], frame: pd.DataFrame
) -> None:
    prepared = [values_of(frame[c.field], c.kind) for c in columns]
    styles = [_template(ws, c.kind, c.bold) for c in columns]
    texts = [c.kind in ("text", "wrap", "status", "code") for c in columns]
    links: list[list[str | None] | None] = []
    for c in columns:
        if c.url is None:
            links.append(None)
        else:
            raw = frame[c.url].astype(object).tolist()[:MAX_LINKS_PER_TABLE]
            links.append([C.safe_url(u) for u in raw])
    link_font = C.LINK_FONT
    for j in range(len(columns)):
        values, style, is_text, urls = prepared[j], styles[j], texts[j], links[j]
        column = col + j
        for i, value in enumerate(values):
            if value is None:
                continue
            cell = ws.cell(row=first + i, column=column)
            if style is not None:
                cell._style = copy(style)  # first: set_text may add the quote prefix to it
            if is_text:
                C.set_text(cell, value)
            else:
                cell.value = value
            if urls is not None and i < len(urls) and urls[i] is not None:
                cell.hyperlink = urls[i]
                cell.font = link_font


@dataclass(frozen=True)
class GridCol:
    """A column of a small styled grid (not an Excel table): header, number format, alignment."""

    header: str
    fmt: str | None = None
    align: Literal["left", "center", "right"] = "center"
    wrap: bool = False


def write_grid(
    ws: Worksheet,
    row: int,
    col: int,
    columns: Sequence[GridCol],
    rows: Sequence[Sequence[Any]],
    urls: Sequence[str | None] | None = None,
) -> int:
    """A compact dashboard grid: styled header, ruled rows; returns the last row written.

    Text values are written safely; ``urls`` links the first cell of each row.
    """
    write_header(ws, row, col, [c.header for c in columns])
    dims = ws.column_dimensions
    header_lines = max(
        (
            wrapped_lines(c.header, (dims[get_column_letter(col + j)].width or 10) - 2)
            for j, c in enumerate(columns)
        ),
        default=1,
    )
    if header_lines > 1:
        ws.row_dimensions[row].height = 15 * min(header_lines, 4)
    r = row
    widths = [dims[get_column_letter(col + j)].width or 10 for j in range(len(columns))]
    for i, values in enumerate(rows):
        r = row + 1 + i
        lines = 1
        for j, (spec, value) in enumerate(zip(columns, values, strict=True)):
            if spec.wrap and isinstance(value, str):
                lines = max(lines, wrapped_lines(value, widths[j]))
            cell = C.put_value(ws, r, col + j, value, spec.fmt)
            cell.alignment = Alignment(horizontal=spec.align, vertical="top", wrap_text=spec.wrap)
            cell.border = C.ROW_BORDER
            cell.font = C.BODY_FONT
        if urls is not None and i < len(urls):
            C.link(ws.cell(row=r, column=col), urls[i])
        if lines > 1:
            ws.row_dimensions[r].height = 15 * min(lines, 8)
    return r


def wrapped_lines(text: str, width: float) -> int:
    """About how many lines ``text`` takes when wrapped in a column ``width`` characters wide."""
    per_line = max(int(width * 1.25) - 1, 1)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def add_status_colours(ws: Worksheet, cell_range: str) -> None:
    """Conditional fills for the five roadmap statuses on a range of status text."""
    for status, (fill, colour) in C.STATUS_COLOURS.items():
        ws.conditional_formatting.add(
            cell_range,
            CellIsRule(
                operator="equal",
                formula=[f'"{status}"'],
                fill=PatternFill("solid", fgColor=fill, bgColor=fill),
                font=Font(bold=True, color=colour),
                stopIfTrue=True,
            ),
        )


def add_data_bar(ws: Worksheet, cell_range: str, colour: str = "5B9BD5") -> None:
    """A data bar (0-100%) over a range of ratios, e.g. % complete."""
    ws.conditional_formatting.add(
        cell_range,
        DataBarRule(start_type="num", start_value=0, end_type="num", end_value=1, color=colour),
    )


def write_block(
    ws: Worksheet,
    row: int,
    col: int,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: Sequence[str | None] | None = None,
) -> int:
    """Plain cells a chart reads (header row, then values); returns the last row written."""
    for j, header in enumerate(headers):
        C.put_text(ws, row, col + j, header, C.NOTE_FONT)
    for i, values in enumerate(rows):
        for j, value in enumerate(values):
            fmt = formats[j] if formats is not None else None
            C.put_value(ws, row + 1 + i, col + j, value, fmt)
    return row + len(rows)
