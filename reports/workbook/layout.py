"""Sheet furniture shared by every sheet: title block, section headings, notes, print setup."""

from __future__ import annotations

from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from . import cells as C
from .context import ReportContext

TITLE_ROW = 1
SUBTITLE_ROW = 2
FIRST_ROW = 4  # first row under the title block


def title_block(ws: Worksheet, ctx: ReportContext, title: str, explanation: str) -> None:
    """Sheet title, and a grey line saying what the sheet shows and for which week."""
    C.put_text(ws, TITLE_ROW, 1, title, C.TITLE_FONT)
    ws.row_dimensions[TITLE_ROW].height = 28
    when = f"Week of {ctx.week:%A %d %B %Y} · data as of {ctx.as_of_local:%Y-%m-%d %H:%M} {ctx.tz}"
    C.put_text(ws, SUBTITLE_ROW, 1, f"{when} · {explanation}", C.SUBTITLE_FONT)
    ws.sheet_view.showGridLines = False
    ws.sheet_view.zoomScale = 90


def section(ws: Worksheet, row: int, col: int, text: str, span: int = 6) -> None:
    """A section heading: bold navy text over a navy rule spanning ``span`` columns."""
    C.put_text(ws, row, col, text, C.SECTION_FONT)
    for j in range(span):
        ws.cell(row=row, column=col + j).border = C.SECTION_BORDER
    ws.row_dimensions[row].height = 20


def note(ws: Worksheet, row: int, col: int, text: str) -> None:
    """A small grey italic note."""
    C.put_text(ws, row, col, text, C.NOTE_FONT)


def print_setup(ws: Worksheet, title_rows: str | None = None, area: str | None = None) -> None:
    """Landscape, one page wide, as many pages tall as needed, narrow margins, page numbers."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_options.horizontalCentered = True
    ws.oddFooter.left.text = "Pulse weekly report"
    ws.oddFooter.right.text = "&A · page &P of &N"
    if title_rows:
        ws.print_title_rows = title_rows
    if area:
        ws.print_area = area


def freeze(ws: Worksheet, cell: str) -> None:
    """Freeze rows above and columns left of ``cell``."""
    ws.freeze_panes = cell
