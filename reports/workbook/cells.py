"""Safe cell writing and the workbook's look: palette, fonts, fills, number formats.

Every piece of user-supplied text goes through :func:`clean_text` and is stored as a string cell
(never a formula, whatever it starts with), with control characters stripped and anything longer
than Excel's 32,767-character cell limit cut with an ellipsis. URLs are linked only when they are
plain http(s) addresses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from pulse import safetext
from pulse.safetext import CONTROL, FORMULA_LEAD, is_missing

MAX_CELL = 32_767
MAX_URL = 2_079  # Excel refuses longer hyperlink targets

# -- palette ----------------------------------------------------------------------------------
NAVY = "1F3864"
BLUE = "2F5597"
LIGHT_BLUE = "DDEBF7"
GREY_TEXT = "595959"
LIGHT_GREY = "F2F2F2"
RULE_GREY = "D9D9D9"
WHITE = "FFFFFF"
GOOD = "1E7B34"
BAD = "C00000"

# status -> (fill, font colour); the same everywhere a status appears
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "done": ("D9E1F2", "1F3864"),
    "on track": ("C6EFCE", "006100"),
    "at risk": ("FFEB9C", "9C5700"),
    "off track": ("FFC7CE", "9C0006"),
    "no target": ("EDEDED", "404040"),
    "no scope": ("EDEDED", "404040"),
}
STATUS_ORDER = ("off track", "at risk", "no target", "no scope", "on track", "done")

# -- number formats ---------------------------------------------------------------------------
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
INT = "#,##0"
NUM = "#,##0.0"
PCT = "0%"
DELTA = '+#,##0;-#,##0;"±0"'
DELTA_NUM = '+#,##0.0;-#,##0.0;"±0"'

# -- fonts, fills, borders --------------------------------------------------------------------
FONT = "Calibri"
TITLE_FONT = Font(name=FONT, size=18, bold=True, color=NAVY)
SUBTITLE_FONT = Font(name=FONT, size=10, italic=True, color=GREY_TEXT)
HEADLINE_FONT = Font(name=FONT, size=12, bold=True, color=NAVY)
SECTION_FONT = Font(name=FONT, size=12, bold=True, color=NAVY)
HEADER_FONT = Font(name=FONT, size=11, bold=True, color=WHITE)
BODY_FONT = Font(name=FONT, size=11)
BOLD_FONT = Font(name=FONT, size=11, bold=True)
NOTE_FONT = Font(name=FONT, size=9, italic=True, color=GREY_TEXT)
LINK_FONT = Font(name=FONT, size=11, color="0563C1", underline="single")
KPI_FONT = Font(name=FONT, size=14, bold=True, color=NAVY)
WARNING_FONT = Font(name=FONT, size=11, bold=True, color=WHITE)
OK_FONT = Font(name=FONT, size=11, bold=True, color=GOOD)

HEADER_FILL = PatternFill("solid", fgColor=NAVY)
BAND_FILL = PatternFill("solid", fgColor=LIGHT_BLUE)
SECTION_FILL = PatternFill("solid", fgColor=LIGHT_GREY)
WARNING_FILL = PatternFill("solid", fgColor=BAD)
OK_FILL = PatternFill("solid", fgColor="E2EFDA")

THIN_RULE = Side(style="thin", color=RULE_GREY)
ROW_BORDER = Border(bottom=THIN_RULE)
SECTION_BORDER = Border(bottom=Side(style="medium", color=NAVY))

WRAP_TOP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
CENTER = Alignment(horizontal="center", vertical="center")
HEADER_ALIGN = Alignment(vertical="center", wrap_text=True)


def status_fill(status: str) -> PatternFill:
    """The solid fill of a roadmap status (grey for anything unknown)."""
    fill, _ = STATUS_COLOURS.get(status, ("EDEDED", "404040"))
    return PatternFill("solid", fgColor=fill)


def status_font(status: str, bold: bool = True) -> Font:
    """The font colour that goes with a status fill."""
    _, colour = STATUS_COLOURS.get(status, ("EDEDED", "404040"))
    return Font(name=FONT, size=11, bold=bold, color=colour)


def clean_text(value: Any, limit: int = MAX_CELL) -> str:
    """User text made safe for a cell (:func:`pulse.safetext.clean_text`), cut to Excel's limit."""
    return safetext.clean_text(value, limit)


def safe_url(value: Any) -> str | None:
    """An http(s) URL fit for a hyperlink, or None (other schemes, spaces, too long)."""
    if is_missing(value):
        return None
    url = str(value).strip()
    if not url or len(url) > MAX_URL or CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    if not url.lower().startswith(("https://", "http://")):
        return None
    return url


def set_text(cell: Cell, value: Any) -> Cell:
    """Store user text as a string cell, never a formula; quote-prefix formula-like text."""
    text = clean_text(value)
    cell.value = text
    cell.data_type = "s"  # openpyxl reads a leading '=' as a formula: force text
    if text.startswith(FORMULA_LEAD):
        cell.quotePrefix = True  # Excel keeps it text even when the user edits the cell
    return cell


def put_text(ws: Worksheet, row: int, col: int, value: Any, font: Font | None = None) -> Cell:
    """Write user (or any) text at (row, col) safely."""
    cell = set_text(ws.cell(row=row, column=col), value)
    if font is not None:
        cell.font = font
    return cell


def put_value(
    ws: Worksheet,
    row: int,
    col: int,
    value: Any,
    number_format: str | None = None,
    font: Font | None = None,
) -> Cell:
    """Write a number, date or label; text goes through :func:`set_text`, missing is blank."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        set_text(cell, value)
    elif is_missing(value):
        cell.value = None
    else:
        cell.value = excel_value(value)
    if number_format is not None:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell


def excel_value(value: Any) -> Any:
    """Python/NumPy/pandas scalars -> what openpyxl stores (naive dates, plain numbers)."""
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("convert aware datetimes to the report zone before writing")
        return value
    if isinstance(value, date):
        return value
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    return value


def link(cell: Cell, url: Any) -> None:
    """Make a cell a hyperlink to a safe http(s) URL (no-op otherwise)."""
    target = safe_url(url)
    if target is not None:
        cell.hyperlink = target
        cell.font = LINK_FONT
