"""Native Excel charts (openpyxl) over ranges already written to a sheet.

Each helper takes the block of cells to chart: a header row with series names, a first column of
categories (sprint names, weeks, days) and one column per series.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.chart import AreaChart, BarChart, LineChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pulse.safetext import one_line

DEFAULT_WIDTH = 8.43  # Excel's default column width, in characters
MAX_TITLE = 255  # characters of a chart or axis title

PALETTE: tuple[str, ...] = (
    "2F5597",
    "ED7D31",
    "70AD47",
    "FFC000",
    "5B9BD5",
    "A5A5A5",
    "264478",
    "9E480E",
    "43682B",
    "997300",
)


def _block(
    ws: Worksheet, header_row: int, first_col: int, last_row: int, series: int
) -> tuple[Reference, Reference]:
    data = Reference(
        ws,
        min_col=first_col + 1,
        max_col=first_col + series,
        min_row=header_row,
        max_row=last_row,
    )
    cats = Reference(ws, min_col=first_col, min_row=header_row + 1, max_row=last_row)
    return data, cats


def column_cm(ws: Worksheet, col: int) -> float:
    """Width of a sheet column in centimetres (Excel: 7 px per character + 5 px, 96 dpi)."""
    letter = get_column_letter(col)
    dims = ws.column_dimensions
    width = dims[letter].width if letter in dims and dims[letter].width else DEFAULT_WIDTH
    return (7 * width + 5) / 37.8


def col_after(ws: Worksheet, col: int, cm: float) -> int:
    """The first column starting at least ``cm`` centimetres right of column ``col``'s edge."""
    total = 0.0
    while total < cm:
        total += column_cm(ws, col)
        col += 1
    return col


def _title(text: str, size: int = 1100) -> Title:
    """A chart title in the report's navy, smaller than Excel's default."""
    props = CharacterProperties(sz=size, b=True, solidFill="1F3864")
    para = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def _finish(chart: BarChart | LineChart | AreaChart, title: str, y_title: str) -> None:
    """Title the chart and its y axis; titles can carry board and team names, so clean them."""
    chart.title = _title(one_line(title, MAX_TITLE))
    chart.y_axis.title = one_line(y_title, MAX_TITLE)
    chart.x_axis.delete = False  # openpyxl 3.1 hides axes unless told otherwise
    chart.y_axis.delete = False
    chart.legend = Legend()
    chart.legend.position = "b"


def column_chart(
    ws: Worksheet,
    anchor: str,
    title: str,
    header_row: int,
    first_col: int,
    last_row: int,
    series: int,
    y_title: str,
    colours: Sequence[str] = PALETTE,
    width: float = 16.0,
    height: float = 7.5,
    stacked: bool = False,
) -> BarChart:
    """Clustered (or stacked) columns, one series per data column."""
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked" if stacked else "clustered"
    if stacked:
        chart.overlap = 100
    data, cats = _block(ws, header_row, first_col, last_row, series)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    for i, s in enumerate(chart.series):
        colour = colours[i % len(colours)]
        s.graphicalProperties.solidFill = colour
        s.graphicalProperties.line.solidFill = colour
    _finish(chart, title, y_title)
    chart.width, chart.height = width, height
    ws.add_chart(chart, anchor)
    return chart


def line_chart(
    ws: Worksheet,
    anchor: str,
    title: str,
    header_row: int,
    first_col: int,
    last_row: int,
    series: int,
    y_title: str,
    date_format: str = "d mmm",
    width: float = 16.0,
    height: float = 7.5,
) -> LineChart:
    """Lines with markers over date categories (e.g. weekly throughput per team)."""
    chart = LineChart()
    data, cats = _block(ws, header_row, first_col, last_row, series)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    for i, s in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        s.graphicalProperties.line.solidFill = colour
        s.graphicalProperties.line.width = 22_000
        s.marker.symbol = "circle"
        s.marker.size = 4
        s.marker.graphicalProperties.solidFill = colour
        s.marker.graphicalProperties.line.solidFill = colour
        s.smooth = False
    chart.x_axis.number_format = date_format
    skip = max(1, (last_row - header_row) // 12)  # about a dozen date labels
    chart.x_axis.tickLblSkip = skip
    chart.x_axis.tickMarkSkip = skip
    _finish(chart, title, y_title)
    chart.width, chart.height = width, height
    ws.add_chart(chart, anchor)
    return chart


def area_chart(
    ws: Worksheet,
    anchor: str,
    title: str,
    header_row: int,
    first_col: int,
    last_row: int,
    series: int,
    y_title: str,
    colours: Sequence[str],
    date_format: str = "d mmm",
    width: float = 16.0,
    height: float = 8.5,
) -> AreaChart:
    """Stacked areas, first data column at the bottom (a CFD: done first, backlog on top)."""
    chart = AreaChart()
    chart.grouping = "stacked"
    data, cats = _block(ws, header_row, first_col, last_row, series)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    for i, s in enumerate(chart.series):
        colour = colours[i % len(colours)]
        s.graphicalProperties.solidFill = colour
        s.graphicalProperties.line.solidFill = colour
    chart.x_axis.number_format = date_format
    skip = max(1, (last_row - header_row) // 12)  # about a dozen date labels
    chart.x_axis.tickLblSkip = skip
    chart.x_axis.tickMarkSkip = skip
    _finish(chart, title, y_title)
    chart.width, chart.height = width, height
    ws.add_chart(chart, anchor)
    return chart
