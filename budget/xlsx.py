"""One writer for every report: columns + rows in, a workbook (or CSV) out.

What a Japanese finance office expects: 千円 in the headers, numbers stored as
numbers with #,##0, totals as SUM formulas (so edits recompute), frozen
headers, A4 landscape fitted to the width with the titles repeated on each
page. Write-only mode keeps memory flat for thousands of rows.
"""

import io
from dataclasses import dataclass

from defusedcsv import csv
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from initiatives.fiscal import NONE_MARK, format_amount, format_number
from kpi.models import KpiText

FORMATS = {"amount": "#,##0", "number": "#,##0.##", "percent": "0.0", "text": "@"}
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BOLD = Font(bold=True)


@dataclass
class Column:
    header: str
    kind: str = "text"  # "text", "amount" (千円, summed), "number", "percent"
    group: str = ""  # a heading over several columns, e.g. a fiscal year
    width: int = 12
    sum_of: tuple = ()  # indexes of columns this one adds up across the row (a SUM formula in Excel)
    wrap: bool = False  # text that runs over lines (the 注記): wrapped in the workbook, line breaks on the page

    @property
    def summed(self):
        return self.kind == "amount"


@dataclass
class Report:
    """What an exporter hands to the writer; rows may be a generator."""

    title: str
    sheet: str
    filename: str  # without extension
    columns: list
    rows: object
    notes: tuple = ()  # lines under the title, e.g. 単位：千円
    total_label: str = "計"


def safe_text(value):
    """Text as text: drop characters a workbook cannot hold (e.g. Word's \\v) so one pasted comment
    cannot break the export."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


WRAP = Alignment(wrap_text=True, vertical="top")


def _data_cell(ws, value, number_format, wrap=False):
    if isinstance(value, KpiText):
        # a KPI value (kpi.models.kpi_text): the number, with a number format that reads as the page does
        # ("30%減" is 30 with 0"%減"); a text target or one whose format would be too long stays text
        if value.number is not None:
            return _styled(ws, value.number, number_format=value.number_format)
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=None)
        cell.value = safe_text(value)
        cell.data_type = "s"  # never a formula, even when staff text starts with "="
        if wrap:
            cell.alignment = WRAP
        return cell
    if number_format and value is not None:
        return _styled(ws, value, number_format=number_format)
    return value


def _styled(ws, value, *, font=None, fill=None, number_format=None, wrap=False):
    cell = WriteOnlyCell(ws, value=value)
    if font:
        cell.font = font
    if fill:
        cell.fill = fill
        cell.border = BOX
    if number_format:
        cell.number_format = number_format
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    return cell


def shown(column, value):
    """How a report cell reads on the page (the workbook keeps the raw number; a KPI value reads as
    kpi.models.kpi_text made it, "30%減"). Text of a wrapped column keeps its line breaks."""
    if value is None or value == "":
        return NONE_MARK if column.kind != "text" else ""
    if column.wrap:
        return format_html('<span class="cell-lines">{}</span>', linebreaksbr(value))
    if column.kind == "amount":
        return format_amount(value)
    if column.kind == "percent":
        return f"{value:.1f}"
    if column.kind == "number":
        return format_number(value)
    return str(value)


def column_groups(columns):
    """(group heading, span) runs over the columns, for two-row headers."""
    runs = []
    for column in columns:
        if runs and runs[-1][0] == column.group:
            runs[-1][1] += 1
        else:
            runs.append([column.group, 1])
    return runs


# A wide report prints as pages of at most this many columns: the first page A to O, every later page
# the two title columns (施策コード, 個別施策) repeated and the next 13.
COLUMNS_PER_PAGE = 15
TITLE_COLUMNS = 2
A4_LANDSCAPE_WIDTH = 150  # printable width in Excel's column-width units, at the margins below


def page_columns(ncols):
    """[(first, last)] 1-based column ranges of each printed page, title columns not counted."""
    pages, first = [], 1
    while first <= ncols:
        room = COLUMNS_PER_PAGE if first == 1 else COLUMNS_PER_PAGE - TITLE_COLUMNS
        pages.append((first, min(ncols, first + room - 1)))
        first += room
    return pages


def _print_setup(ws, report, first_header):
    """A4 landscape, titles repeated; up to 15 columns fitted to one page wide, a wider report split
    into pages of at most 15 columns (manual breaks; Excel ignores them under "fit to", so the
    scale is set to fit the widest page instead)."""
    ncols = len(report.columns)
    ws.print_title_rows = f"{first_header}:{first_header + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.oddFooter.center.text = "&P / &N"
    pages = page_columns(ncols)
    if len(pages) <= 1:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return
    widths = [c.width for c in report.columns]
    titles = sum(widths[:TITLE_COLUMNS])
    widest = max(sum(widths[a - 1 : b]) + (titles if a > 1 else 0) for a, b in pages)
    ws.print_title_cols = f"A:{get_column_letter(TITLE_COLUMNS)}"
    ws.page_setup.scale = max(10, min(100, int(A4_LANDSCAPE_WIDTH * 100 / widest)))
    for _, last in pages[:-1]:
        ws.col_breaks.append(Break(id=last))


def to_xlsx(report):
    wb = Workbook(write_only=True)
    write_report(wb.create_sheet(report.sheet[:31]), report)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_report(ws, report):
    """The report on a worksheet (write-only or not): title, notes, two header rows, rows, totals."""
    for index, column in enumerate(report.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width

    ncols = len(report.columns)
    header_rows = 2 + len(report.notes) + 1  # title, notes, blank, group row, header row
    first_header = header_rows
    ws.freeze_panes = f"C{first_header + 2}"
    _print_setup(ws, report, first_header)

    ws.append([_styled(ws, report.title, font=Font(bold=True, size=13))])
    for note in report.notes:
        ws.append([note])
    ws.append([])
    groups, previous = [], None
    for column in report.columns:
        groups.append(column.group if column.group != previous else "")
        previous = column.group
    ws.append([_styled(ws, g, font=BOLD, fill=HEADER_FILL, wrap=True) for g in groups])
    ws.append([_styled(ws, c.header, font=BOLD, fill=HEADER_FILL, wrap=True) for c in report.columns])

    first = first_header + 2
    row_number = first - 1
    formats = [FORMATS.get(c.kind) if c.kind != "text" else None for c in report.columns]
    letters = [get_column_letter(i) for i in range(1, ncols + 1)]
    for row in report.rows:
        row_number += 1
        cells = []
        for column, value, fmt in zip(report.columns, row, formats, strict=True):
            if column.sum_of:
                value = "=SUM({})".format(",".join(f"{letters[i]}{row_number}" for i in column.sum_of))
                cells.append(_styled(ws, value, number_format=fmt))
            else:
                cells.append(_data_cell(ws, value, fmt, column.wrap))
        ws.append(cells)
    last = row_number
    if any(c.summed for c in report.columns):
        total = [_styled(ws, report.total_label, font=BOLD)]
        for index, column in enumerate(report.columns[1:], start=2):
            if column.summed:
                letter = get_column_letter(index)
                formula = f"=SUM({letter}{first}:{letter}{last})" if last >= first else 0
                total.append(_styled(ws, formula, font=BOLD, number_format=FORMATS["amount"]))
            else:
                total.append(None)
        ws.append(total)
    if ncols:
        ws.auto_filter.ref = f"A{first_header + 1}:{get_column_letter(ncols)}{max(last, first_header + 1)}"


# defusedcsv puts a "'" before text that starts with = + - @ | %; Excel also reads a formula after a leading tab
# or CR, and Japanese Excel takes the full-width signs as the ASCII ones.
MORE_FORMULA_STARTS = ("\t", "\r", "＝", "＋", "－", "＠", "｜", "％")


def _csv_value(value):
    """Text that Excel would run as a formula (CSV injection) gets a leading "'"; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(MORE_FORMULA_STARTS):
        return f"'{value}"
    return value


def to_csv(report):
    """The same rows as UTF-8 with a BOM, so Excel opens the Japanese text; no total row; None is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"{c.group} {c.header}".strip() for c in report.columns])
    for row in report.rows:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
