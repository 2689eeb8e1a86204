"""A year's actuals in and out as an Excel workbook or a CSV file: download, check (preview), confirm.

The columns are declared once, as a django-import-export ``Resource`` (``ActualsResource``): its
export builds the rows of the download (a ``tablib.Dataset``), and its column names are the headers
an upload is read by. django-import-export's own import (``Resource.import_data``) is not used: it
saves each row with ``instance.save()`` and makes its dry run by writing inside a transaction that
it rolls back, while here the preview computes its diff without writing anything and the confirm
writes the checked rows through ``kpi.workflow.save_many`` (role, lock, version, history "取込"; all
rows or none). Its readers are not used either: its xlsx format opens workbooks with
``data_only=True`` (a formula would arrive as its cached value, unseen) and its CSV format needs the
encoding given, not found.

Each row is checked by binding it to ``kpi.forms.MeasureYearForm`` (the entry form's rules and
Japanese messages), after the checks only a file can need: the measure code, the year, a duplicate
row, the department, the version seen at download, formulas and error values in cells.

What an upload may cost is bounded before any parser sees it: its size, the type read from its
first bytes (a zip is an .xlsx, anything else must decode as UTF-8 or cp932 text), the number and
unpacked size of the zip's members and their compression ratio, no DOCTYPE or ENTITY in any XML part
(an entity bomb is refused before openpyxl parses a byte), and a row cap.
"""

import copy
import csv
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
from defusedcsv import csv as defused_csv
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.serializers.json import DjangoJSONEncoder
from import_export import resources
from import_export.fields import Field
from import_export.widgets import IntegerWidget
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from initiatives import permissions
from initiatives.fields import DASHES, NEGATIVE_MESSAGE, PLAIN_NUMBER, normalize_number
from initiatives.fields import FORMULA_STARTS as SPREADSHEET_FORMULAS
from initiatives.fiscal import NONE_MARK, fiscal_year_label, format_amount, format_number
from initiatives.models import PLAN_ORDER, Measure

from . import workflow
from .forms import MeasureYearForm
from .models import KpiTarget, MeasureYear

# --- Limits (an upload is refused with a message before it can cost more than these) ---------------

MAX_UPLOAD_BYTES = 10 * 2**20  # what is sent
MAX_ROWS = 20_000  # data rows (a whole plan at 3,000 measures has room to spare)
LINE_CAP = 10 * MAX_ROWS  # lines of a CSV file (a row's cells may hold line breaks)
MAX_COLUMNS = 64  # cells right of this are not read (the sheet has 16 columns)
MAX_ZIP_MEMBERS = 500
MAX_UNPACKED_BYTES = 80 * 2**20  # all members of an .xlsx together, as declared in the zip
MAX_RATIO = 100  # unpacked ÷ packed, for a member over RATIO_FLOOR (a real sheet packs about 5-15×)
RATIO_FLOOR = 2**20

SHEET = "実績入力"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


class FileRefused(Exception):
    """The whole file cannot be read; the message is for the user."""


# --- The columns ------------------------------------------------------------------------------------

IMPROVEMENT_BY_LABEL = {str(label): value for value, label in MeasureYear.Improvement.choices}
IMPROVEMENT_LABELS = {value: label for label, value in IMPROVEMENT_BY_LABEL.items()}
STATUS_LABELS = {value: str(label) for value, label in MeasureYear.Status.choices}


class ActualsResource(resources.Resource):
    """The entry workbook's columns, in order. Rows are MeasureYear objects (unsaved where nothing is
    entered yet) with their measure, and the year's KPI target as ``target``."""

    fiscal_year = Field(attribute="fiscal_year", column_name="年度", widget=IntegerWidget(coerce_to_string=False))
    code = Field(attribute="measure__code", column_name="施策コード")
    name = Field(attribute="measure__name", column_name="個別施策")
    department = Field(column_name="担当課")
    unit = Field(column_name="単位")
    target = Field(column_name="KPI目標")
    kpi = Field(column_name="KPI実績")
    actual_cost = Field(attribute="actual_cost", column_name="決算額（千円）", widget=IntegerWidget(False))
    actual_general_fund = Field(
        attribute="actual_general_fund", column_name="うち一般財源（千円）", widget=IntegerWidget(False)
    )
    actual_other_funds = Field(
        attribute="actual_other_funds", column_name="うちその他財源（千円）", widget=IntegerWidget(False)
    )
    work_done = Field(attribute="work_done", column_name="実施内容")
    evaluation_comment = Field(attribute="evaluation_comment", column_name="評価・要因分析")
    improvement = Field(column_name="改善方針")
    improvement_text = Field(attribute="improvement_text", column_name="改善方針の内容")
    status = Field(column_name="状態")
    version = Field(column_name="版", widget=IntegerWidget(coerce_to_string=False))

    def dehydrate_department(self, record):
        department = record.measure.department
        return department.name if department else ""

    def dehydrate_unit(self, record):
        kgi = getattr(record.measure, "kgi", None)
        return kgi.unit if kgi else ""

    def dehydrate_target(self, record):
        return record.target.display(getattr(record.measure, "kgi", None)) if record.target else NONE_MARK

    def dehydrate_kpi(self, record):
        # a Decimal for a workbook cell (a number); the text where the target is a text
        return record.kpi_actual if record.kpi_actual is not None else (record.kpi_actual_text or None)

    def dehydrate_improvement(self, record):
        return IMPROVEMENT_LABELS.get(record.improvement, "")

    def dehydrate_status(self, record):
        return STATUS_LABELS[record.status] if record.pk else "未入力"

    def dehydrate_version(self, record):
        return record.version if record.pk else 0  # 0: nothing saved yet (kpi.workflow's "new record")


# Which columns are entered (the rest are shown read-only and, except 年度/施策コード/版, ignored on upload).
ENTRY_COLUMNS = (
    "kpi",
    "actual_cost",
    "actual_general_fund",
    "actual_other_funds",
    "work_done",
    "evaluation_comment",
    "improvement",
    "improvement_text",
)
AMOUNT_COLUMNS = ("actual_cost", "actual_general_fund", "actual_other_funds")
TEXT_COLUMNS = ("work_done", "evaluation_comment", "improvement_text")
REQUIRED_COLUMNS = ("fiscal_year", "code", "version")
WIDTHS = {
    "fiscal_year": 7,
    "code": 10,
    "name": 30,
    "department": 14,
    "unit": 7,
    "target": 14,
    "kpi": 12,
    "actual_cost": 13,
    "actual_general_fund": 13,
    "actual_other_funds": 13,
    "work_done": 40,
    "evaluation_comment": 40,
    "improvement": 10,
    "improvement_text": 40,
    "status": 10,
    "version": 5,
}
# Which form field a column fills, and the column a form error belongs to.
FIELD_COLUMNS = {
    "kpi_actual": "kpi",
    "kpi_actual_text": "kpi",
    "actual_cost": "actual_cost",
    "actual_general_fund": "actual_general_fund",
    "actual_other_funds": "actual_other_funds",
    "work_done": "work_done",
    "evaluation_comment": "evaluation_comment",
    "improvement": "improvement",
    "improvement_text": "improvement_text",
    "seen_version": "version",
}
COMPARED_FIELDS = tuple(FIELD_COLUMNS)[:-1]

RESOURCE = ActualsResource()
HEADERS = {name: str(f.column_name) for name, f in RESOURCE.fields.items()}


def _header_key(text):
    """How a header is matched: '決算額(千円)' and '決算額（千円）' and ' 決算額（千円） ' are one."""
    return unicodedata.normalize("NFKC", str(text)).replace(" ", "").replace("\u3000", "").strip()


COLUMN_BY_HEADER = {_header_key(header): name for name, header in HEADERS.items()}


# --- Download ---------------------------------------------------------------------------------------


def entry_rows(plan, year, department=None):
    """The records of the year, one per measure of the department (or of the plan), in plan order.

    Queries: the measures (with KGI and department), their records of the year, their targets.
    """
    measures = Measure.objects.filter(plan=plan).select_related("kgi", "department")
    if department is not None:
        measures = measures.filter(department=department)
    measures = list(measures.order_by(*PLAN_ORDER))
    records = {r.measure_id: r for r in MeasureYear.objects.filter(measure__plan=plan, fiscal_year=year)}
    targets = {t.measure_id: t for t in KpiTarget.objects.filter(measure__plan=plan, fiscal_year=year)}
    rows = []
    for measure in measures:
        measure.plan = plan
        record = records.get(measure.pk) or MeasureYear(fiscal_year=year)
        record.measure = measure
        record.target = targets.get(measure.pk)
        rows.append(record)
    return rows


def export_dataset(records):
    return RESOURCE.export(records)


def file_name(plan, year, department, extension):
    who = department.name if department else "全課"
    return f"実績入力_{plan.title}_{fiscal_year_label(year)}_{who}.{extension}"


HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")  # shown only
ENTRY_HEADER_FILL = PatternFill("solid", fgColor="FFE699")  # to be filled in
ENTRY_FILL = PatternFill("solid", fgColor="FFF9E5")
BOLD = Font(bold=True)
OPEN = Protection(locked=False)
WRAP = Alignment(wrap_text=True, vertical="top")
FORMATS = {"amount": "#,##0", "text": "@", "number": "General"}
INSTRUCTIONS = (
    "記入方法",
    "",
    "・黄色の列（KPI実績〜改善方針の内容）に入力してください。灰色の列は変更しても取り込まれません。",
    "・金額は千円単位の整数で入力します。負の数（△100 など）は入力できません。",
    "・空欄は「未入力」、数値の「－」は「なし」として取り込みます。",
    "・改善方針は一覧（継続・拡充・見直し・完了・廃止）から選んでください。",
    "・数式は取り込めません。数式で計算した場合は「値の貼り付け」で値にしてください。",
    "・「年度」「施策コード」「版」は変更しないでください。版はダウンロード時の記録の版で、"
    "その後に他の人が更新した施策は取り込めません（もう一度ダウンロードしてください）。",
    "・承認済みの施策は変更できません（入力欄もロックしています）。",
    "・シートの保護にパスワードはありません。保護は入力欄以外を誤って消さないためのもので、"
    "取込時にすべての値をサーバーで検査します。",
    "・CSV で保存する場合は「CSV UTF-8」または「CSV（コンマ区切り）」のどちらでも取り込めます。",
)


def _text(value):
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def to_xlsx(records, dataset, title):
    """The entry workbook: one protected sheet whose entry cells are open, and a sheet of instructions."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    names = list(RESOURCE.get_export_order())
    for index, name in enumerate(names, start=1):
        ws.column_dimensions[get_column_letter(index)].width = WIDTHS[name]
    ws.freeze_panes = "D2"
    ws.protection.sheet = True  # no password: see INSTRUCTIONS
    ws.protection.autoFilter = False  # filtering and widening columns stay allowed
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.sort = False

    header = []
    for name in names:
        cell = WriteOnlyCell(ws, value=HEADERS[name])
        cell.font = BOLD
        cell.fill = ENTRY_HEADER_FILL if name in ENTRY_COLUMNS else HEADER_FILL
        cell.alignment = WRAP
        header.append(cell)
    ws.append(header)

    kinds = {name: "amount" if name in AMOUNT_COLUMNS else "text" for name in ENTRY_COLUMNS}
    for record, values in zip(records, dataset, strict=True):
        text_kpi = bool(record.target and record.target.text) or bool(record.kpi_actual_text)
        row = []
        for name, value in zip(names, values, strict=True):
            if value == "":
                value = None
            if name not in ENTRY_COLUMNS:
                if isinstance(value, str):
                    cell = WriteOnlyCell(ws, value=None)
                    cell.value = _text(value)
                    cell.data_type = "s"  # text stays text, even "=…"
                    row.append(cell)
                else:
                    row.append(value)
                continue
            kind = "text" if name == "kpi" and text_kpi else ("number" if name == "kpi" else kinds[name])
            cell = WriteOnlyCell(ws, value=None if isinstance(value, str) else value)
            if isinstance(value, str):
                cell.value = _text(value)
                cell.data_type = "s"
            cell.number_format = FORMATS[kind]
            if name in TEXT_COLUMNS:
                cell.alignment = WRAP
            if not record.is_locked:
                cell.protection = OPEN
                cell.fill = ENTRY_FILL
            row.append(cell)
        ws.append(row)

    last = len(records) + 1
    letters = {name: get_column_letter(index) for index, name in enumerate(names, start=1)}
    if records:
        choices = DataValidation(
            type="list",
            formula1='"{}"'.format(",".join(IMPROVEMENT_BY_LABEL)),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="改善方針",
            error="改善方針は一覧（" + "・".join(IMPROVEMENT_BY_LABEL) + "）から選んでください。",
        )
        choices.add(f"{letters['improvement']}2:{letters['improvement']}{last}")
        amounts = DataValidation(
            type="whole",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="金額（千円）",
            error="金額は 0 以上の整数（千円）で入力してください。",
        )
        for name in AMOUNT_COLUMNS:
            amounts.add(f"{letters[name]}2:{letters[name]}{last}")
        ws.data_validations.append(choices)
        ws.data_validations.append(amounts)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}{last}"

    notes = wb.create_sheet("記入方法")
    notes.column_dimensions["A"].width = 120
    notes.protection.sheet = True
    first = WriteOnlyCell(notes, value=title)
    first.font = Font(bold=True, size=13)
    notes.append([first])
    for line in INSTRUCTIONS:
        notes.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# initiatives.fields.FORMULA_STARTS, and | and % as defusedcsv marks them: this file is read back by the portal.
FORMULA_STARTS = (*SPREADSHEET_FORMULAS, "|", "%", "｜", "％")
# The "'" put before such text, taken off again on reading.
ESCAPED_FORMULA = re.compile(r"'(?=[=+\-@|%\t\r\n＝＋－＠｜％])")


def _csv_value(value):
    if isinstance(value, Decimal):
        return _plain_number(value)
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or ESCAPED_FORMULA.match(value)):
        return f"'{value}"  # read back without it (_csv_value_in)
    return value


def to_csv(dataset):
    """The same rows as UTF-8 with a BOM (Excel then opens the Japanese text); formulas neutralised."""
    out = io.StringIO()
    writer = defused_csv.writer(out, lineterminator="\r\n")
    writer.writerow(dataset.headers)
    for row in dataset:
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _plain_number(value):
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


# --- Reading an upload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadCell:
    """A cell that cannot be read as a value (a formula, an error value); ``message`` says why."""

    message: str


FORMULA_MESSAGE = (
    "数式は取り込めません。値を直接入力してください（数式で計算した場合は「値の貼り付け」で値にしてください）。"
)
ERROR_VALUE_MESSAGE = "エラー値（#DIV/0! など）は取り込めません。値を入力してください。"


@dataclass
class Table:
    kind: str  # "xlsx" or "csv"
    header_row: int
    headers: list
    rows: list  # [(row number, [cell value: str or BadCell])]


def detect_kind(content, filename=""):
    """'xlsx' or 'csv', from the first bytes; refused if the file name says otherwise or nothing fits."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if content[:4] == b"PK\x03\x04":
        if extension in ("csv", "txt"):
            raise FileRefused(
                f"ファイル名は .{extension} ですが、中身はExcelブック（.xlsx）です。拡張子を .xlsx に直してください。"
            )
        return "xlsx"
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused(
            "Excel 97-2003 形式（.xls）やパスワード付きのブックは取り込めません。"
            "Excelで「Excel ブック（.xlsx）」として保存し直してください。"
        )
    if extension in ("xlsx", "xlsm", "xls"):
        looks_like_text = b"\x00" not in content[:4096]
        raise FileRefused(
            f"ファイル名は .{extension} ですが、中身はExcelブックではありません"
            + ("（CSVなどのテキストファイルです）。拡張子を .csv にするか、" if looks_like_text else "。")
            + "ダウンロードした様式をExcelで開いて「Excel ブック（.xlsx）」として保存し直してください。"
        )
    return "csv"


def read_table(content, filename=""):
    """The header row and the data rows of an upload (.xlsx or CSV), or FileRefused."""
    if not content:
        raise FileRefused("ファイルが空です。")
    if len(content) > MAX_UPLOAD_BYTES:
        raise FileRefused(too_large_message())
    kind = detect_kind(content, filename)
    rows = _xlsx_rows(content) if kind == "xlsx" else _csv_rows(content)
    return _table(kind, rows)


def too_large_message():
    return f"ファイルが大きすぎます（上限 {MAX_UPLOAD_BYTES // 2**20} MB）。課ごとに分けて取り込んでください。"


def _too_many_rows():
    return FileRefused(f"行数が上限（{MAX_ROWS:,}行）を超えています。課ごとに分けて取り込んでください。")


def _table(kind, rows):
    """The header row is the first row with anything in it; the data rows follow it."""
    rows = iter(rows)
    for number, cells in rows:
        if not _blank(cells):
            header_row, headers = number, cells
            break
    else:
        raise FileRefused("ファイルに何も書かれていません。")
    keys = {_header_key(c) for c in headers if isinstance(c, str)}
    if _header_key(HEADERS["code"]) not in keys:
        raise FileRefused(
            f"{header_row}行目が見出しの行（「施策コード」「版」などの列名）ではありません。"
            "ダウンロードした様式の1行目の見出しを残して使ってください。"
        )
    data = []
    for number, cells in rows:
        if _blank(cells):
            continue  # Excel keeps formatted empty rows; they are neither data nor counted
        if len(data) >= MAX_ROWS:
            raise _too_many_rows()
        data.append((number, cells))
    return Table(kind, header_row, headers, data)


def _blank(cells):
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _check_zip(content):
    """Refuse a zip whose members would unpack to too much, or whose XML declares entities."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise FileRefused("Excelブック（.xlsx）として読めません。ファイルが壊れている可能性があります。") from error
    unreadable = FileRefused(
        "このブックは大きすぎるか、不自然に圧縮されているため取り込めません（展開後の上限 "
        f"{MAX_UNPACKED_BYTES // 2**20} MB）。ダウンロードした様式に値だけを入力してください。"
    )
    if len(members) > MAX_ZIP_MEMBERS:
        raise unreadable
    total = 0
    for member in members:
        total += member.file_size
        packed = max(member.compress_size, 1)
        if total > MAX_UNPACKED_BYTES or (member.file_size > RATIO_FLOOR and member.file_size / packed > MAX_RATIO):
            raise unreadable
        if member.flag_bits & 0x1:
            raise FileRefused("暗号化されたブックは取り込めません。パスワードを外して保存し直してください。")
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise FileRefused(
            "Excelブック（.xlsx）ではない zip ファイルです。ダウンロードした様式をExcelで保存して取り込んでください。"
        )
    for member in members:
        if member.filename.endswith((".xml", ".rels", ".vml")):
            _check_xml(archive, member)
    return archive


DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _check_xml(archive, member):
    """No DOCTYPE or ENTITY (no entity bomb, no external entity); UTF-8 only (UTF-16 could hide them).

    Read in pieces: what is read is bounded by the declared size, which the zip checks cap (zipfile
    stops at the declared size and fails on a CRC mismatch).
    """
    refused = FileRefused("ブックの中に取り込めない定義（DOCTYPE・ENTITY）があります。様式を保存し直してください。")
    tail = b""
    first = True
    try:
        with archive.open(member) as part:
            while chunk := part.read(2**16):
                if first:
                    start = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
                    if start and not start.startswith(b"<"):
                        raise refused
                    first = False
                if DECLARATIONS.search(tail + chunk):
                    raise refused
                tail = chunk[-16:]
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        raise FileRefused("Excelブック（.xlsx）として読めません。ファイルが壊れている可能性があります。") from error


def _xlsx_value(cell):
    if cell.data_type == "f":
        return BadCell(FORMULA_MESSAGE)
    value = cell.value
    if cell.data_type == "e":
        return BadCell(ERROR_VALUE_MESSAGE)
    return value


def _xlsx_rows(content):
    archive = _check_zip(content)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged file; all mean the same here
        raise FileRefused("Excelブック（.xlsx）として読めません。ファイルが壊れている可能性があります。") from error
    finally:
        archive.close()
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        # A sheet's stated size may be anything: read the rows that are there (their XML is capped above;
        # _table counts the rows with values against MAX_ROWS).
        ws.reset_dimensions()
        for number, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
            yield number, [_xlsx_value(cell) for cell in row]
    except FileRefused:
        raise
    except Exception as error:
        raise FileRefused("Excelブック（.xlsx）として読めません。ファイルが壊れている可能性があります。") from error
    finally:
        wb.close()


def decode_text(content):
    """UTF-8 (with or without a BOM), else Shift_JIS as Japanese Excel saves it (cp932)."""
    if b"\x00" in content:
        raise FileRefused(
            "テキスト（CSV）としても Excelブックとしても読めないファイルです。"
            "ダウンロードした様式を .xlsx か CSV で保存して取り込んでください。"
        )
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused("文字コードを判別できません。CSV は UTF-8 か Shift_JIS で保存してください。")


def _csv_value_in(text):
    """A CSV cell: our own export's leading "'" comes off; anything else Excel would run is refused.

    "-1" is a (negative) number and "－" alone means none, so a minus is a formula only before
    something that is not a digit.
    """
    if ESCAPED_FORMULA.match(text):
        return text[1:]
    first = unicodedata.normalize("NFKC", text[:1])
    if first in ("=", "+", "@"):
        return BadCell(FORMULA_MESSAGE)
    if first == "-":
        rest = unicodedata.normalize("NFKC", text[1:]).strip()
        if rest and not (rest[0].isdigit() or rest[0] == "."):
            return BadCell(FORMULA_MESSAGE)
    return text


def _lines(text):
    """The text's lines, one at a time: a StringIO would hold four bytes a character."""
    end_of_line = "\n" if "\n" in text else "\r"
    start = 0
    while start < len(text):
        end = text.find(end_of_line, start)
        end = len(text) if end == -1 else end + 1
        yield text[start:end]
        start = end


def _csv_rows(content):
    # Counted on the bytes, before decoding: a file of a million short lines costs no more than its size.
    # (A cell may hold line breaks, so the cap on lines is well above the cap on rows.)
    if content.count(b"\n") > LINE_CAP:
        raise _too_many_rows()
    text = decode_text(content)
    reader = csv.reader(_lines(text))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [_csv_value_in(cell) for cell in row[:MAX_COLUMNS]]
    except csv.Error as error:
        raise FileRefused(f"CSV として読めません（{error}）。") from error


# --- Checking: what would change, and what is refused ------------------------------------------------


@dataclass
class Issue:
    row: int | None  # None: the file as a whole
    column: str
    message: str


@dataclass
class RowChange:
    row: int
    measure: Measure
    cells: list  # [(column header, before, after)], as shown
    seen: int = 0  # the record's version in the file (0: nothing saved when it was downloaded)
    values: dict = field(default_factory=dict)  # {entry field: value to store}, as checked


@dataclass
class Preview:
    rows: int = 0  # data rows read (blank rows left out)
    unchanged: int = 0
    changes: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    kind: str = ""
    saved: int = 0  # rows written by a confirm

    @property
    def ok(self):
        return not self.issues


def _cell_text(value):
    """What a form is given for a cell: a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _plain_number(Decimal(repr(value))) if value == value and abs(value) != float("inf") else "?"
    if isinstance(value, Decimal):
        return _plain_number(value)
    return str(value)


ACCOUNTING_NEGATIVE = re.compile(r"[△▲]")


def _number_text(text):
    """A number cell: '△100' (the accounting negative) is a negative number, refused as such."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    if ACCOUNTING_NEGATIVE.match(normalised) and PLAIN_NUMBER.fullmatch(normalize_number(normalised[1:])):
        raise ValueError(str(NEGATIVE_MESSAGE))
    return text


def _newlines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _shown(name, value):
    if value is None or value == "":
        return "（空欄）"
    if name in AMOUNT_COLUMNS:
        return format_amount(value)
    if name == "kpi":
        return format_number(value)
    if name == "improvement":
        return IMPROVEMENT_LABELS.get(value, value)
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def _current(record, name):
    """A stored value as a form would be given it."""
    value = getattr(record, name)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _plain_number(value)
    return str(value)


class _Row:
    """One data row of an upload: its cells by column name, and its issues (in the preview's list)."""

    def __init__(self, number, cells, columns, preview):
        self.number, self.preview = number, preview
        self.values = {}
        self.bad = False
        for index, cell in enumerate(cells):
            name = columns.get(index)
            if isinstance(cell, BadCell):
                self.issue(HEADERS[name] if name else f"{get_column_letter(index + 1)}列", cell.message)
            elif name is not None:
                self.values[name] = _cell_text(cell) if name in TEXT_COLUMNS else _cell_text(cell).strip()
            elif _cell_text(cell).strip():
                self.issue(
                    f"{get_column_letter(index + 1)}列",
                    "見出しのない列に値があります。ダウンロードした様式の列だけを使ってください。",
                )

    def issue(self, column, message):
        self.preview.issues.append(Issue(self.number, column, str(message)))
        self.bad = True

    def column_issue(self, name, message):
        self.issue(HEADERS[name], message)


def _columns(headers):
    """{cell index: column name} of the known columns; a renamed, unknown or repeated header is refused."""
    columns, seen = {}, set()
    for index, header in enumerate(headers):
        if header is None or (isinstance(header, str) and not header.strip()):
            continue
        name = COLUMN_BY_HEADER.get(_header_key(header)) if isinstance(header, str) else None
        if name is None:
            shown = header.message if isinstance(header, BadCell) else str(header).strip()
            raise FileRefused(
                f"列「{shown}」はこの様式にありません。ダウンロードした様式の見出しを変えずに使ってください。"
            )
        if name in seen:
            raise FileRefused(f"列「{header.strip()}」が2つあります。")
        seen.add(name)
        columns[index] = name
    missing = [HEADERS[n] for n in REQUIRED_COLUMNS if n not in seen]
    if missing:
        raise FileRefused(
            "「{}」の列がありません。ダウンロードした様式の列を消さずに使ってください。".format("」「".join(missing))
        )
    return columns


class _RowForm(MeasureYearForm):
    """MeasureYearForm for one row of a file: the same fields, rules and messages.

    Only Django's second asking of the figures' CHECK constraints (≥ 0) is left out: the fields refuse a
    negative number first, with their own message, and the database refuses it again at the write.
    Django would build and run two queries a row to ask (about 60% of checking 20,000 rows).
    """

    def _post_clean(self):
        self.instance.validate_constraints = _constraints_left_to_the_fields_and_the_database
        try:
            super()._post_clean()
        finally:
            del self.instance.validate_constraints


def _constraints_left_to_the_fields_and_the_database(exclude=None):
    return None


class _FieldsWithSharedWidgets(dict):
    """_RowForm's fields, copied for each row as Django copies a form's fields, but sharing their
    widgets: a row's form is validated, never rendered, and deep-copying every widget (a Select's
    choices, a Textarea's attributes) was a third of the time to check a row. A field's own settings
    (label, validators, choices) are still the row's own: MeasureYearForm sets them on the copy."""

    def __deepcopy__(self, memo):
        return {name: copy.copy(field) for name, field in self.items()}


_RowForm.base_fields = _FieldsWithSharedWidgets(_RowForm.base_fields)


def _checked_rows(plan, year, user, table, preview):
    """Yield a RowChange for each row that changes a record; refusals go to
    ``preview.issues``, row by row. Writes nothing.

    Queries: the plan's measures, its records of the year and its targets of the year; none per row.
    """
    columns = _columns(table.headers)
    present = set(columns.values())
    measures = {m.code: m for m in Measure.objects.filter(plan=plan).select_related("kgi", "department")}
    records = {r.measure_id: r for r in MeasureYear.objects.filter(measure__plan=plan, fiscal_year=year)}
    targets = {t.measure_id: t for t in KpiTarget.objects.filter(measure__plan=plan, fiscal_year=year)}
    first_row = {}
    for number, cells in table.rows:
        preview.rows += 1
        row = _Row(number, cells, columns, preview)
        measure = _row_measure(row, plan, year, measures, first_row, user)
        seen = _row_version(row)
        if row.bad or measure is None:
            continue
        record = records.get(measure.pk) or MeasureYear(measure=measure, fiscal_year=year)
        record.measure = measure
        target = targets.get(measure.pk)
        if _same_as_stored(row.values, present, record):
            preview.unchanged += 1  # nothing to write: no form (a round trip costs no validation)
            continue
        before = {name: getattr(record, name) for name in COMPARED_FIELDS}
        form = _bound_form(row, record, target, present, seen)
        if form is None:
            continue
        if not form.is_valid():
            _form_issues(row, form)
            continue
        cells = _diff(before, form.instance)
        if not cells:
            preview.unchanged += 1
            continue
        if record.is_locked:
            row.column_issue("status", workflow.Locked())
        elif seen != (record.version if record.pk else 0):
            row.column_issue("version", workflow.Conflict())
        else:
            values = {name: getattr(form.instance, name) for name in MeasureYear.ENTRY_FIELDS}
            yield RowChange(number, measure, cells, seen, values)
    if not preview.rows:
        preview.issues.append(Issue(None, "", "取り込む行がありません（見出しの下が空です）。"))


def _same_as_stored(values, present, record):
    """True only when every entry cell reads exactly as the stored value (after the normalising the form
    does too); anything else goes to the form, which decides."""
    for name in present & set(ENTRY_COLUMNS):
        given = values.get(name, "")
        if name in TEXT_COLUMNS:
            if _newlines(given) != _newlines(getattr(record, name)):
                return False
        elif name == "improvement":
            if IMPROVEMENT_BY_LABEL.get(given, "" if given in DASHES or not given else None) != record.improvement:
                return False
        elif name == "kpi":
            if record.kpi_actual_text:
                if given.strip() != record.kpi_actual_text:
                    return False
            elif normalize_number(given) != _current(record, "kpi_actual"):
                return False
        elif normalize_number(given) != _current(record, name):
            return False
    return True


def _row_measure(row, plan, year, measures, first_row, user):
    values = row.values
    given = values.get("fiscal_year", "")
    if not given:
        row.column_issue("fiscal_year", "年度がありません。ダウンロードした様式の値を消さないでください。")
    elif normalize_number(given) != str(year):
        row.column_issue(
            "fiscal_year",
            f"年度が違います（この画面は {fiscal_year_label(year)} の取込です。ファイルの年度：{given}）。",
        )
    code = values.get("code", "")
    if not code:
        row.column_issue("code", "施策コードがありません。")
        return None
    measure = measures.get(code)
    if measure is None:
        row.column_issue("code", f"施策コード「{code}」はこの計画（{plan.title}）にありません。")
        return None
    if code in first_row:
        row.column_issue("code", f"施策コード「{code}」の行が重複しています（{first_row[code]}行目と同じ施策です）。")
        return None
    first_row[code] = row.number
    if not user.has_perm(permissions.ENTER_MEASURE, measure):
        owner = measure.department.name if measure.department else "担当課が未設定"
        row.column_issue(
            "code", f"施策コード「{code}」は{owner}の施策です。自分の課の施策だけを取り込めます（権限がありません）。"
        )
        return None
    measure.plan = plan  # the form's year check reads it: no query per row
    return measure


def _row_version(row):
    text = normalize_number(row.values.get("version", ""))
    if not text.isdigit() or len(text) > 9:
        row.column_issue("version", "版の値が正しくありません。ダウンロードした様式の「版」は変更しないでください。")
        return None
    return int(text)


def _bound_form(row, record, target, present, seen):
    """The row's form: bound to the stored values, with the file's columns laid over them (a column
    left out of the file keeps what is stored)."""
    data = {}
    form = _RowForm(data, instance=record, target=target)
    for name in form.fields:
        data[name] = _current(record, name) if name != "seen_version" else str(seen)
    values = row.values
    for name in AMOUNT_COLUMNS:
        if name in present:
            try:
                data[name] = _number_text(values.get(name, ""))
            except ValueError as error:
                row.column_issue(name, error)
    for name in TEXT_COLUMNS:
        if name in present:
            given = values.get(name, "")
            # Excel's line breaks are LF, a browser's CRLF: the same text is not a change
            data[name] = data[name] if _newlines(given) == _newlines(data[name]) else given
    if "improvement" in present:
        given = values.get("improvement", "")
        value = "" if given in DASHES or not given else IMPROVEMENT_BY_LABEL.get(given)
        if value is None:
            row.column_issue(
                "improvement", "改善方針は「{}」のいずれかを選んでください。".format("・".join(IMPROVEMENT_BY_LABEL))
            )
        else:
            data["improvement"] = value
    if "kpi" in present:
        _kpi_data(row, form, data, values.get("kpi", ""))
    return None if row.bad else form


def _kpi_data(row, form, data, given):
    """One KPI column: a number, or a text where the year's target is a text (the form has those fields)."""
    name = "kpi_actual" if "kpi_actual" in form.fields else "kpi_actual_text"
    if "kpi_actual" in form.fields and "kpi_actual_text" in form.fields:
        # a figure stored in the other shape than the target's: kept unless the cell says otherwise
        if given == (data["kpi_actual"] or data["kpi_actual_text"]):
            return
        looks_numeric = PLAIN_NUMBER.fullmatch(normalize_number(given).lstrip("-△▲")) is not None
        name = "kpi_actual" if looks_numeric or not given else "kpi_actual_text"
        data["kpi_actual"] = data["kpi_actual_text"] = ""
    if name == "kpi_actual_text":
        data[name] = given
        return
    try:
        data[name] = _number_text(given)
    except ValueError as error:
        row.column_issue("kpi", error)


def _form_issues(row, form):
    for name, errors in form.errors.items():
        column = FIELD_COLUMNS.get(name)
        for message in errors:
            if column:
                row.column_issue(column, message)
            else:
                label = "" if name == NON_FIELD_ERRORS else form.fields[name].label
                row.issue("", f"{label}：{message}" if label else message)


def _diff(before, record):
    """[(header, before, after)] of the cells this row changes, as the page shows them."""
    cells = []
    kpi_before = before["kpi_actual"] if before["kpi_actual"] is not None else before["kpi_actual_text"]
    kpi_after = record.kpi_actual if record.kpi_actual is not None else record.kpi_actual_text
    if (before["kpi_actual"], before["kpi_actual_text"]) != (record.kpi_actual, record.kpi_actual_text):
        cells.append((HEADERS["kpi"], _shown("kpi", kpi_before), _shown("kpi", kpi_after)))
    for name in COMPARED_FIELDS[2:]:
        old, new = before[name], getattr(record, name)
        if old != new:
            cells.append((HEADERS[name], _shown(name, old), _shown(name, new)))
    return cells


def preview_upload(plan, year, user, content, filename=""):
    """Read and check an upload: what would change, cell by cell, and every refusal. Writes nothing."""
    preview = Preview()
    try:
        table = read_table(content, filename)
        preview.kind = table.kind
        preview.changes.extend(_checked_rows(plan, year, user, table, preview))
    except FileRefused as refused:
        return Preview(issues=[Issue(None, "", str(refused))])
    return preview


# --- Confirming: the checked changes, kept on the server between the preview and the confirm ---------


def kept_changes(preview):
    """The preview's changes as the confirm will write them (JSON bytes): each row's checked values,
    the version it was checked against, and the cells shown."""
    rows = [[c.row, c.measure.pk, c.seen, c.values, c.cells] for c in preview.changes]
    kept = {"kind": preview.kind, "rows": preview.rows, "unchanged": preview.unchanged, "changes": rows}
    return json.dumps(kept, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def confirm_upload(plan, year, user, kept):
    """Write the changes the preview checked and showed, all or nothing, through kpi.workflow.save_many
    (role, lock, the version each row was checked against, history "取込").

    The rows are not checked again: the version is what ties them to the stored record. A record
    saved, approved or created by anyone since the preview, a measure moved to another department or
    deleted: each such row is named and nothing is written. Returns the preview as shown, with
    ``saved`` rows written or its issues.
    """
    data = json.loads(kept)
    preview = Preview(rows=data["rows"], unchanged=data["unchanged"], kind=data["kind"])
    measures = {m.pk: m for m in Measure.objects.filter(plan=plan)}
    records = {r.measure_id: r for r in MeasureYear.objects.filter(measure__plan=plan, fiscal_year=year)}
    fields = {name: MeasureYear._meta.get_field(name) for name in MeasureYear.ENTRY_FIELDS}
    row_of, writes = {}, []
    for row, measure_id, seen, values, cells in data["changes"]:
        measure = measures.get(measure_id)
        if measure is None:
            preview.issues.append(Issue(row, HEADERS["code"], "この施策は確認の後に計画から削除されました。"))
            continue
        measure.plan = plan
        preview.changes.append(RowChange(row, measure, [tuple(c) for c in cells], seen, values))
        record = records.get(measure_id) or MeasureYear(measure=measure, fiscal_year=year)
        record.measure = measure
        for name, value in values.items():
            setattr(record, name, fields[name].to_python(value))
        row_of[measure_id] = row
        writes.append((record, seen))
    if preview.issues:
        return preview
    try:
        preview.saved = workflow.save_many(writes, user, reason="取込")
    except workflow.RowsRefused as refused:
        for record, error in refused.refused:
            preview.issues.append(Issue(row_of[record.measure_id], _refused_column(error), str(error)))
        preview.issues.sort(key=lambda issue: issue.row)
    return preview


def _refused_column(error):
    if isinstance(error, workflow.Conflict):
        return HEADERS["version"]
    if isinstance(error, workflow.Locked):
        return HEADERS["status"]
    return HEADERS["code"]  # not allowed: the measure is another department's now
