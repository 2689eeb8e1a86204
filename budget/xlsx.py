"""One writer for every report: columns + rows in, a workbook (or CSV) out.

What a Japanese finance office expects: 千円 in the headers, numbers stored as
numbers with #,##0, totals as SUM formulas (so edits recompute), frozen
headers, A4 landscape fitted to the width with the titles repeated on each
page. XlsxWriter in constant_memory mode writes each row to a temporary file
as it goes, so memory stays flat however large the plan; writing the same
report it measured about 3 times faster than openpyxl's write-only mode, and
as fast as its own in-memory mode (bench/xlsx_writers.py, docs/benchmark.md).
openpyxl still reads uploads (kpi.transfer). Rows are written top to bottom.
"""

import datetime
import io
import re
from dataclasses import dataclass

import xlsxwriter
from defusedcsv import csv
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from xlsxwriter.utility import xl_col_to_name

from initiatives.fiscal import NONE_MARK, format_amount, format_number
from kpi.models import KpiText

FORMATS = {"amount": "#,##0", "number": "#,##0.##", "percent": "0.0", "text": "@"}
HEADER_FILL = "#DDE7F0"
BORDER_COLOR = "#808080"
BOLD = {"bold": True}
BOX = {"border": 1, "border_color": BORDER_COLOR}  # thin, on all four sides
HEADER = {**BOLD, **BOX, "pattern": 1, "bg_color": HEADER_FILL}
WRAP = {"text_wrap": True, "valign": "top"}
# XlsxWriter's own: one row at a time to a temporary file; no URLs or numbers guessed from text.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,  # Excel has no time zones; an aware datetime is written as its wall-clock time
}
DATE_FORMAT = "yyyy-mm-dd"


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


# Characters a workbook cannot hold (XML 1.0 forbids them), as openpyxl's ILLEGAL_CHARACTERS_RE.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def safe_text(value):
    """Text as text: drop characters a workbook cannot hold (e.g. Word's \\v) so one pasted comment
    cannot break the export. Text with no control character at all (most of it) is returned as it is."""
    return value if value.isprintable() else ILLEGAL_CHARACTERS_RE.sub("", value)


class Styles:
    """A workbook's cell formats, each made once (XlsxWriter keeps every format it is given)."""

    def __init__(self, workbook):
        self.workbook = workbook
        self.made = {}

    def __call__(self, *parts, number_format=None):
        key = tuple(sorted(item for part in parts for item in part.items())) + (number_format,)
        style = self.made.get(key)
        if style is None:
            properties = {k: v for part in parts for k, v in part.items()}
            if number_format:
                properties["num_format"] = number_format
            style = self.made[key] = self.workbook.add_format(properties) if properties else None
        return style


def new_workbook(out):
    """An XlsxWriter workbook writing to ``out`` (a path or a BytesIO), and its Styles."""
    workbook = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    return workbook, Styles(workbook)


def write_cell(ws, styles, row, col, value, number_format=None, style=(), wrap=False):
    """One value as Excel should hold it: text always as text (never a formula, even when staff text starts
    with "="), a KPI value as its number with a number format that reads as the page does ("30%減" is 30
    with 0"%減"; kpi.models.kpi_text), a number with the column's format; None leaves the cell empty."""
    if isinstance(value, KpiText) and value.number is not None:
        ws.write_number(row, col, value.number, styles(*style, number_format=value.number_format))
    elif isinstance(value, str):
        ws.write_string(row, col, safe_text(value), styles(*style, WRAP) if wrap else styles(*style))
    elif value is None:
        if style:
            ws.write_blank(row, col, None, styles(*style))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, styles(*style))
    elif isinstance(value, (int, float)) or hasattr(value, "as_tuple"):  # a Decimal too
        ws.write_number(row, col, value, styles(*style, number_format=number_format))
    elif isinstance(value, datetime.date):  # a datetime too; shown as a date unless the column says otherwise
        ws.write_datetime(row, col, value, styles(*style, number_format=number_format or DATE_FORMAT))
    else:
        ws.write(row, col, value, styles(*style, number_format=number_format))


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
    scale is set to fit the widest page instead). ``first_header`` is the 0-based row of the group row."""
    ncols = len(report.columns)
    ws.repeat_rows(first_header, first_header + 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C&P / &N")
    pages = page_columns(ncols)
    if len(pages) <= 1:
        ws.fit_to_pages(1, 0)
        return
    widths = [c.width for c in report.columns]
    titles = sum(widths[:TITLE_COLUMNS])
    widest = max(sum(widths[a - 1 : b]) + (titles if a > 1 else 0) for a, b in pages)
    ws.repeat_columns(0, TITLE_COLUMNS - 1)
    ws.set_print_scale(max(10, min(100, int(A4_LANDSCAPE_WIDTH * 100 / widest))))
    ws.set_v_pagebreaks([last for _, last in pages[:-1]])  # a break after column `last` (1-based)


def to_xlsx(report):
    out = io.BytesIO()
    workbook, styles = new_workbook(out)
    write_report(workbook.add_worksheet(report.sheet[:31]), styles, report)
    workbook.close()
    return out.getvalue()


def write_report(ws, styles, report):
    """The report on a worksheet, row after row (as a streamed workbook needs): title, notes, two header rows,
    rows, totals."""
    for index, column in enumerate(report.columns):
        ws.set_column(index, index, column.width)

    ncols = len(report.columns)
    first_header = 1 + len(report.notes) + 1  # 0-based: title, notes, blank, then the group row
    ws.freeze_panes(first_header + 2, 2)
    _print_setup(ws, report, first_header)

    ws.write_string(0, 0, report.title, styles(BOLD, {"font_size": 13}))
    for row, note in enumerate(report.notes, start=1):
        ws.write_string(row, 0, safe_text(note))
    header = styles(HEADER, {"text_wrap": True, "align": "center", "valign": "vcenter"})
    previous = None
    for col, column in enumerate(report.columns):
        if column.group and column.group != previous:
            ws.write_string(first_header, col, column.group, header)
        else:
            ws.write_blank(first_header, col, None, header)
        previous = column.group
    for col, column in enumerate(report.columns):
        ws.write_string(first_header + 1, col, column.header, header)

    first = first_header + 2  # 0-based row of the first data row
    row = first - 1
    formats = [FORMATS.get(c.kind) if c.kind != "text" else None for c in report.columns]
    letters = [xl_col_to_name(i) for i in range(ncols)]
    plain = [(col, fmt, column.wrap) for col, (column, fmt) in enumerate(zip(report.columns, formats, strict=True))]
    sums = [(col, styles(number_format=formats[col]), column.sum_of) for col, column in enumerate(report.columns)]
    sums = [s for s in sums if s[2]]
    summed_cols = {col for col, _, _ in sums}
    plain = [p for p in plain if p[0] not in summed_cols]
    number_styles = {fmt: styles(number_format=fmt) for fmt in formats}
    kpi_styles = {}  # a KPI value's number format (kpi_text: "30%減" is 30 with 0"%減") → its style
    write_string, write_number, write_formula = ws.write_string, ws.write_number, ws.write_formula
    for values in report.rows:
        row += 1
        if len(values) != ncols:
            raise ValueError(f"a row of {len(values)} values for {ncols} columns")
        excel_row = row + 1
        for col, fmt, wrap in plain:
            value = values[col]
            if value is None or value == "":  # an empty cell, as Excel leaves it (most 注意 cells)
                continue
            # the common cases inline (a report has ~350,000 cells); write_cell does the rest
            if type(value) is str:
                write_string(row, col, safe_text(value), styles(WRAP) if wrap else None)
            elif type(value) is int or type(value) is float:
                write_number(row, col, value, number_styles[fmt])
            elif type(value) is KpiText and value.number is not None:  # as write_cell does it
                style = kpi_styles.get(value.number_format)
                if style is None:
                    style = kpi_styles[value.number_format] = styles(number_format=value.number_format)
                write_number(row, col, value.number, style)
            else:
                write_cell(ws, styles, row, col, value, fmt, wrap=wrap)
        for col, style, sum_of in sums:
            write_formula(row, col, "=SUM({})".format(",".join(f"{letters[i]}{excel_row}" for i in sum_of)), style)
    last = row  # 0-based; first - 1 when there are no rows
    if any(c.summed for c in report.columns):
        total = last + 1
        ws.write_string(total, 0, report.total_label, styles(BOLD))
        bold_amount = styles(BOLD, number_format=FORMATS["amount"])
        for col, column in enumerate(report.columns[1:], start=1):
            if column.summed:
                if last >= first:
                    ws.write_formula(
                        total, col, f"=SUM({letters[col]}{first + 1}:{letters[col]}{last + 1})", bold_amount
                    )
                else:
                    ws.write_number(total, col, 0, bold_amount)
    if ncols:
        ws.autofilter(first_header + 1, 0, max(last, first_header + 1), ncols - 1)


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
