"""A plan as a workbook: one sheet per part of the plan, one row per item.

The workbook is another spelling of the plan file (fixtures/README.md): reading one gives the very
dict that the JSON file holds, and plan_loader.import_plan does all validation and writing (all or
nothing); writing one starts from plan_export.plan_to_data. What the workbook adds is *where*: every
problem names its sheet, row and column, the loader's own messages included.

Rows refer to each other by stable keys: a 基本方針 by its number, a 取組 by its number within its
基本方針, everything under a measure by the measure's code. Years are Western integers, with a 和暦
column beside them for reading only. In number cells "－" is the plan's "none" (null in the file).

An upload is untrusted: the size, the unpacked size and the compression ratio of the zip are checked
before openpyxl opens it, XML with a DOCTYPE or ENTITY is refused, the type is decided from the
content (not the file name), formulas are refused in every cell read, and so are control characters.
"""

import datetime
import io
import math
import re
import unicodedata
import warnings
import zipfile
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import openpyxl
from django.db import transaction
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from budget.xlsx import safe_text
from initiatives.fields import (
    CONTROL_CHARACTERS_MESSAGE,
    DASHES,
    NEGATIVE_MESSAGE,
    PLAIN_NUMBER,
    has_control_characters,
    normalize_number,
)
from initiatives.fiscal import NONE_MARK, fiscal_year_label
from initiatives.models import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN, Initiative, Plan, lines, paragraphs
from kpi.models import Direction

from .plan_loader import LEVEL_NAMES, PLAN_RULES, PlanFileError, PlanImportError, import_plan, read_plan_file

# --- Limits for an upload ---------------------------------------------------------------------------

MAX_BYTES = 5 * 1024 * 1024  # the .xlsx as uploaded (a plan of 3,000 measures is under 1 MB)
MAX_UNPACKED = 100 * 1024 * 1024  # all its parts unpacked
MAX_RATIO = 100  # unpacked : packed, for any part larger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_PARTS = 1000
MAX_ROWS = 100_000  # per sheet
MAX_COLUMNS = 40  # cells further right are not read
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, or an .xlsx protected by a password
# XML in UTF-16 would hide a declaration from the scan; Excel writes UTF-8 only.
UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
XML_DECLARATIONS = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
CHUNK = 64 * 1024

MB = 1024 * 1024
TRUE_MARKS = {unicodedata.normalize("NFKC", mark) for mark in ("○", "〇", "◯", "はい", "true", "1")}
FALSE_MARKS = {"", "×", "いいえ", "false", "0"}
TRUE_MARK = "○"


# --- What each sheet holds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    key: str  # the plan file's key, or a reference to another sheet (policy, initiative, measure)
    kind: str = "text"  # text, code, lines, paragraphs, whole, numbers, year, number, flag, date, choice, wareki
    required: bool = False
    width: int = 14
    field: str = ""  # the model field the loader names in its messages, if not the key
    choices: tuple = ()  # (label, code) pairs for kind "choice"
    default: object = None  # a choice left blank

    @property
    def model_field(self):
        return self.field or self.key

    @property
    def is_number(self):
        return self.kind in ("whole", "year", "number")


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple
    counted_as: str  # what one row is, for the preview's counts
    optional: bool = False  # a workbook may leave the sheet out (made before it existed)

    def column(self, key):
        return next((c for c in self.columns if c.key == key), None)


def _wareki(key="wareki"):
    return Column("和暦（参考）", key, kind="wareki", width=16)


def _choices(plan_field):
    """(label, code) of a Plan field's choices, for a choice column (blank: the field's default)."""
    field = Plan._meta.get_field(plan_field)
    return tuple((str(label), code) for code, label in field.choices)


STATUSES = tuple((str(label), code) for code, label in Initiative.Status.choices)
DIRECTIONS = tuple((str(label), code) for code, label in Direction.choices)
POLICY_REF = Column("基本方針番号", "policy", kind="whole", required=True, width=8)
MEASURE_REF = Column("施策コード", "measure", kind="code", required=True, width=12)

PLAN = Sheet(
    "計画",
    (
        Column("計画コード", "code", kind="code", required=True, width=18),
        Column("計画名", "title", required=True, width=30),
        Column("自治体", "municipality", required=True),
        Column("策定日", "adopted_on", kind="date", width=12),
        Column("目指す姿（ビジョン）", "vision", required=True, width=30),
        Column("目指す姿の説明", "vision_description", width=40),
        Column("計画の進行管理", "progress_management", width=40),
        Column("開始年度（西暦）", "start_year", kind="year", required=True, width=10),
        Column("終了年度（西暦）", "end_year", kind="year", required=True, width=10),
        Column("計画期間（和暦・参考）", "period", kind="wareki", width=26),
        Column("年度経費（LCC）の定義", "lcc_definition", width=40),
        Column("数値目標（KGI）の定義", "kgi_definition", width=40),
        Column("評価指標（KPI）の定義", "kpi_definition", width=40),
        Column("取組に係る経費の説明", "costs_description", width=40),
        Column("緊急度・重要度についての注記", "score_note", width=40),
        Column("今後検討する取組の「検討の方向性」の見出し", "consideration_heading", width=24),
        Column("第1階層の名称（空欄なら基本方針）", "policy_level_name", width=16),
        Column("第2階層の名称（空欄なら取組）", "initiative_level_name", width=16),
        Column("第3階層の名称（4階層の計画のみ）", "group_level_name", width=16),
        Column("施策の階層の名称（空欄なら個別施策）", "measure_level_name", width=16),
        *(
            Column(str(Plan._meta.get_field(name).verbose_name), name, kind="choice", choices=_choices(name), width=18)
            for name in PLAN_RULES
        ),
        Column("出典", "source", width=30),
        Column("データに関する注記（空行で区切って1件ずつ）", "data_notes", kind="paragraphs", width=40),
    ),
    "計画",
)
NATIONAL_PRIORITIES = Sheet(
    "重点取組事項",
    (
        Column("番号", "number", kind="whole", required=True, width=8),
        Column("重点取組事項", "name", required=True, width=36),
        Column("内容", "content", width=60),
    ),
    "国の重点取組事項",
)
POLICIES = Sheet(
    "基本方針",
    (
        Column("番号", "number", kind="whole", required=True, width=8),
        Column("表記", "numeral", kind="code", required=True, width=8),
        Column("基本方針", "title", required=True, width=40),
        Column("説明", "description", width=60),
    ),
    "基本方針",
)
INITIATIVES = Sheet(
    "取組",
    (
        POLICY_REF,
        Column("取組番号", "number", kind="whole", required=True, width=8),
        Column("取組", "title", required=True, width=36),
        Column("緊急度", "urgency", kind="whole", width=8),
        Column("重要度", "importance", kind="whole", width=8),
        Column("状態", "status", kind="choice", choices=STATUSES, default=Initiative.Status.ACTIVE, width=10),
        Column("検討の方向性", "consideration", width=40),
        Column("今後検討する取組の番号", "future_no", kind="whole", width=10),
        Column("データに関する注記（空行で区切って1件ずつ）", "data_notes", kind="paragraphs", width=40),
    ),
    "取組",
)
GROUPS = Sheet(
    "第3階層",
    (
        POLICY_REF,
        Column("取組番号", "initiative", kind="whole", required=True, width=8),
        Column("番号", "number", kind="whole", required=True, width=8),
        Column("名称", "title", required=True, width=36),
    ),
    "第3階層",
    optional=True,
)
MEASURES = Sheet(
    "施策",
    (
        POLICY_REF,
        Column("取組番号", "initiative", kind="whole", required=True, width=8),
        Column("施策コード", "code", kind="code", required=True, width=12),
        Column("番号", "ordinal", kind="whole", required=True, width=6),
        Column("個別施策", "name", required=True, width=30),
        Column("内容", "content", width=50),
        Column("目指す姿／目標", "goal", width=40),
        Column("期待される効果（1行に1件）", "effects", kind="lines", width=40),
        Column("注記（※）（空行で区切って1件ずつ）", "notes", kind="paragraphs", width=30),
        Column("データに関する注記（空行で区切って1件ずつ）", "data_notes", kind="paragraphs", width=30),
        Column("国の重点取組事項（番号、「、」で区切る）", "national_priorities", kind="numbers", width=14),
        Column("第3階層の番号（4階層の計画のみ）", "group", kind="whole", width=10),
    ),
    "個別施策",
)
SCHEDULE = Sheet(
    "スケジュール",
    (
        MEASURE_REF,
        Column("項目", "label", required=True, width=40),
        Column("開始年度（西暦）", "start_year", kind="year", required=True, width=10),
        Column("終了年度（西暦）", "end_year", kind="year", required=True, width=10),
        Column("期間（和暦・参考）", "period", kind="wareki", width=26),
        Column("期間は推定", "inferred", kind="flag", field="is_inferred", width=8),
        Column("推定の根拠", "basis", width=50),
    ),
    "スケジュールの項目",
)
KGI = Sheet(
    "KGI",
    (
        MEASURE_REF,
        Column("数値目標（計画の表記）", "text", required=True, width=40),
        Column("指標", "indicator", width=30),
        Column("目標値", "target", kind="number", width=10),
        Column("目標（文章）", "target_text", width=20),
        Column("単位", "unit", width=8),
        Column("評価の向き", "direction", kind="choice", choices=DIRECTIONS, default=Direction.HIGHER, width=16),
        Column("累計", "cumulative", kind="flag", field="is_cumulative", width=6),
    ),
    "KGI",
)
INDICATORS = Sheet(
    "評価指標",
    (
        MEASURE_REF,
        Column("番号（2から）", "number", kind="whole", required=True, width=8),
        Column("指標", "name", required=True, width=30),
        Column("単位", "unit", width=8),
        Column("評価の向き", "direction", kind="choice", choices=DIRECTIONS, default=Direction.HIGHER, width=16),
        Column("累計", "cumulative", kind="flag", field="is_cumulative", width=6),
        Column("期間の目標値", "target", kind="number", width=10),
        Column("期間の目標（文章）", "target_text", width=20),
    ),
    "評価指標（2つ目以降）",
    optional=True,
)
INDICATOR_TARGETS = Sheet(
    "評価指標の目標",
    (
        MEASURE_REF,
        Column("指標の番号", "indicator", kind="whole", required=True, width=8),
        Column("年度（西暦）", "fiscal_year", kind="year", required=True, width=10),
        _wareki(),
        Column("目標値", "value", kind="number", width=10),
        Column("目標（文章）", "text", width=24),
    ),
    "評価指標の目標",
    optional=True,
)
TARGETS = Sheet(
    "KPI目標",
    (
        MEASURE_REF,
        Column("年度（西暦）", "fiscal_year", kind="year", required=True, width=10),
        _wareki(),
        Column("目標値", "value", kind="number", width=10),
        Column("目標（文章）", "text", width=24),
        Column("注記", "note", width=10),
    ),
    "KPI目標",
)
COSTS = Sheet(
    "年度経費",
    (
        MEASURE_REF,
        Column("年度（西暦）", "fiscal_year", kind="year", required=True, width=10),
        _wareki(),
        Column("経費（千円）", "amount", kind="whole", width=12),
        Column("注記", "note", width=10),
    ),
    "年度経費",
)
GENERAL_FUND = Sheet(
    "一般財源",
    (
        POLICY_REF,
        Column("年度（西暦）", "fiscal_year", kind="year", required=True, width=10),
        _wareki(),
        Column("うち一般財源（千円）", "amount", kind="whole", required=True, width=14),
    ),
    "一般財源",
)
SHEETS = (
    PLAN,
    NATIONAL_PRIORITIES,
    POLICIES,
    INITIATIVES,
    GROUPS,
    MEASURES,
    SCHEDULE,
    KGI,
    TARGETS,
    INDICATORS,
    INDICATOR_TARGETS,
    COSTS,
    GENERAL_FUND,
)
GUIDE = "記入方法"
GUIDE_LINES = (
    "計画ブック：計画をこのブックに書き、計画進捗ポータルの「計画ブックから取り込む」で取り込みます。",
    "シートごとに1行1件です。1行目の見出しは変えないでください（列の順は入れ替えても構いません）。",
    "取組は「基本方針番号」と「取組番号」、施策の下の行（スケジュール・KGI・KPI目標・年度経費）は「施策コード」で結び付けます。",
    "階層の名称は「計画」シートで変えられます（例：基本目標・取組分野・事業）。4階層の計画は第3階層の名称を書き、"
    "「第3階層」シートに取組ごとの第3階層（例：取組事項）を、「施策」シートにその番号を書きます。",
    "KGIの指標のほかにも評価指標がある施策は、「評価指標」シートに番号2からの指標を、「評価指標の目標」シートに年度ごとの目標を書きます。",
    "「重点取組事項」シートには計画が掲げる国の重点取組事項を書き、施策が取り組むものは「施策」シートに番号で書きます（例：1、3）。",
    "年度は西暦の整数で書きます（例：2022）。和暦の列は参考の表示で、取り込みでは読みません。",
    "数値の欄の「－」は「なし」（計画書の「－」）です。0 とは区別します。経費は千円単位の整数です。",
    "「○」は「はい」、空欄は「いいえ」です。数式は使えません（値を貼り付けてください）。",
    "スケジュールの項目は、施策ごとに上から順に表示されます。",
    "取り込みは全件検証し、1件でも問題があれば何も保存しません。問題はシート・行・列を示して表示します。",
)


# --- Problems ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    sheet: str = ""
    row: int | None = None
    column: str = ""  # the column's letter
    header: str = ""
    message: str = ""

    def __str__(self):
        where = f"「{self.sheet}」シート" if self.sheet else "計画ブック"
        if self.row:
            where += f" {self.row}行目"
        if self.column:
            where += f" {self.column}列（{self.header}）"
        return f"{where}: {self.message}"


class WorkbookError(PlanImportError):
    """A workbook that could be read but holds problems; each names its sheet, row and column."""

    def __init__(self, parsed):
        self.parsed = parsed  # what was read, for the preview
        self.details = list(parsed.problems)
        super().__init__([str(p) for p in self.details])


class _CellError(Exception):
    pass


# --- Writing -----------------------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
BOLD = Font(bold=True)
TEXT_FORMAT = "@"


def _period(start, end):
    return f"{fiscal_year_label(start)}～{fiscal_year_label(end)}"


def _sheet_rows(sheet, data):
    """The rows of one sheet, each a {key: value} in the plan file's terms."""
    policies = data["policies"]
    measures = [
        (policy, ini, m) for policy in policies for ini in policy["initiatives"] for m in ini.get("measures", [])
    ]
    if sheet is PLAN:
        p = data["plan"]
        return [{**p, "period": _period(p["start_year"], p["end_year"])}] if p else []
    if sheet is NATIONAL_PRIORITIES:
        return data.get("national_priorities", [])
    if sheet is POLICIES:
        return policies
    if sheet is INITIATIVES:
        return [{**ini, "policy": policy["number"]} for policy in policies for ini in policy["initiatives"]]
    if sheet is GROUPS:
        return [
            {**g, "policy": policy["number"], "initiative": ini["number"]}
            for policy in policies
            for ini in policy["initiatives"]
            for g in ini.get("groups", [])
        ]
    if sheet is MEASURES:
        return [{**m, "policy": policy["number"], "initiative": ini["number"]} for policy, ini, m in measures]
    if sheet is SCHEDULE:
        return [
            {**bar, "measure": m["code"], "period": _period(bar["start_year"], bar["end_year"])}
            for _, _, m in measures
            for bar in m.get("schedule", [])
        ]
    if sheet is KGI:
        return [{**m["kgi"], "measure": m["code"]} for _, _, m in measures if m.get("kgi")]
    if sheet is INDICATORS:
        return [{**i, "measure": m["code"]} for _, _, m in measures for i in m.get("indicators", [])]
    if sheet is INDICATOR_TARGETS:
        return [
            {"measure": m["code"], "indicator": i["number"], "fiscal_year": int(year), **(cell or {"value": None})}
            for _, _, m in measures
            for i in m.get("indicators", [])
            for year, cell in i.get("kpi", {}).items()
        ]
    if sheet is TARGETS:
        return [
            {"measure": m["code"], "fiscal_year": int(year), **(cell or {"value": None, "text": "", "note": ""})}
            for _, _, m in measures
            for year, cell in m.get("kpi", {}).items()
        ]
    if sheet is COSTS:
        return [
            {
                "measure": m["code"],
                "fiscal_year": int(year),
                "amount": amount,
                "note": m.get("lcc_notes", {}).get(year, ""),
            }
            for _, _, m in measures
            for year, amount in m.get("lcc", {}).items()
        ]
    return data.get("general_fund", [])


def _shown(column, row):
    """A row's value as the cell holds it."""
    if column.kind == "wareki":
        year = row.get("fiscal_year")
        return fiscal_year_label(year) if year is not None else row.get(column.key, "")
    value = row.get(column.key)
    if column.kind == "lines":
        return "\n".join(value or [])
    if column.kind == "numbers":
        return NUMBER_SEPARATOR.join(str(n) for n in value or [])
    if column.kind == "paragraphs":
        return "\n\n".join(value or [])
    if column.kind == "flag":
        return TRUE_MARK if value else ""
    if column.kind == "choice":
        return next((label for label, code in column.choices if code == value), value)
    if column.kind == "date":
        return datetime.date.fromisoformat(value) if value else None
    if column.is_number and value is None:
        # A text-only KPI target has no number, but is not "none": leave its number cell blank.
        return "" if column.key == "value" and row.get("text") else NONE_MARK
    return value


def _prototype(ws, column):
    """A cell styled for the column: each data cell copies its style array, far cheaper than setting styles."""
    cell = WriteOnlyCell(ws)
    if column.kind == "date":
        cell.number_format = "yyyy-mm-dd"
    elif not column.is_number:
        cell.number_format = TEXT_FORMAT  # "1-1" stays text when edited, never a date
    if column.kind in ("text", "lines", "paragraphs"):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _cell(ws, prototype, value):
    cell = WriteOnlyCell(ws)
    cell._style = copy(prototype._style)
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"  # never a formula, whatever the text starts with
    else:
        cell.value = value
    return cell


def _validation(column, letter):
    if column.kind == "flag":
        options = TRUE_MARK
    elif column.kind == "choice":
        options = ",".join(label for label, _ in column.choices)
    else:
        return None
    validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
    validation.error = "一覧から選んでください。"
    validation.add(f"{letter}2:{letter}{MAX_ROWS}")
    return validation


def write_workbook(data):
    """The plan-file dict as the plan workbook (bytes); data=None gives the empty template."""
    data = data or {"plan": None, "policies": [], "general_fund": []}
    wb = Workbook(write_only=True)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        ws.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = column.width
            if validation := _validation(column, letter):
                ws.data_validations.append(validation)
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column.header)
            cell.font, cell.fill = BOLD, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            header.append(cell)
        ws.append(header)
        prototypes = [_prototype(ws, column) for column in sheet.columns]
        for row in _sheet_rows(sheet, data):
            ws.append([_cell(ws, p, _shown(c, row)) for c, p in zip(sheet.columns, prototypes, strict=True)])
    guide = wb.create_sheet(GUIDE)
    guide.column_dimensions["A"].width = 120
    for line in GUIDE_LINES:
        guide.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_workbook():
    return write_workbook(None)


# --- Reading: the package first ------------------------------------------------------------------------


def _not_a_workbook(content):
    if content.startswith(OLE_MAGIC):
        return (
            "Excel 97-2003 形式（.xls）か、パスワード付きのブックです。"
            "パスワードを外し、Excel ブック（.xlsx）として保存してください。"
        )
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return (
            "JSON のファイルです。計画ブック（.xlsx）を選んでください"
            "（JSON の計画ファイルは manage.py import_plan で読み込めます）。"
        )
    return "Excel ブック（.xlsx）ではありません（CSV やテキストなど）。形式はファイル名でなく中身で判定しています。"


BROKEN = "Excel ブック（.xlsx）として読めません。ファイルが壊れているようです。"


def check_package(content):
    """Refuse, with one line, anything openpyxl should not be given."""
    if len(content) > MAX_BYTES:
        raise PlanFileError(f"ファイルが大きすぎます（上限 {MAX_BYTES // MB} MB）。")
    if not content.startswith(ZIP_MAGIC):
        raise PlanFileError(_not_a_workbook(content))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise PlanFileError(BROKEN) from error
    if len(parts) > MAX_PARTS:
        raise PlanFileError("ブックの部品が多すぎます。計画ブックではないようです。")
    # zipfile never unpacks more than a part declares (it stops there and checks the CRC), so the
    # declared sizes bound the memory openpyxl can use.
    if sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise PlanFileError(f"展開後のサイズが大きすぎます（上限 {MAX_UNPACKED // MB} MB）。")
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise PlanFileError("圧縮率が異常に高いファイルです（zip 爆弾のおそれ）。読み込みません。")
    names = {p.filename for p in parts}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise PlanFileError("Excel ブック（.xlsx）ではありません（zip ですが、ブックの部品がありません）。")
    for part in parts:
        _refuse_declarations(archive, part)


def _refuse_declarations(archive, part):
    """Entity expansion needs a DOCTYPE; no part of a workbook has one. Every part is scanned (openpyxl
    follows the package's own links, whatever a part is named), in chunks, never whole."""
    try:
        with archive.open(part) as stream:
            tail = b""
            first = True
            while chunk := stream.read(CHUNK):
                if first and chunk.startswith(UTF16_STARTS):
                    raise PlanFileError("UTF-8 以外で書かれた XML を含むブックは読み込めません。")
                first = False
                if XML_DECLARATIONS.search(tail + chunk):
                    raise PlanFileError("DOCTYPE や ENTITY の宣言を含むブックは読み込めません。")
                tail = chunk[-16:]
    except PlanFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as error:
        # RuntimeError: an encrypted part; NotImplementedError: a compression zipfile cannot read.
        raise PlanFileError(BROKEN) from error


# --- Reading: cells ------------------------------------------------------------------------------------


def _text(value):
    if isinstance(value, bool) or isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        raise _CellError("文字で入力してください。")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "" if value is None else str(value)
    if has_control_characters(text):
        raise _CellError(str(CONTROL_CHARACTERS_MESSAGE))
    return text


def _plain_number(value):
    """A cell as a Decimal ≥ 0, or None for blank and "－"; _CellError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        raise _CellError("数値で入力してください。")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise _CellError("数値で入力してください。")
        number = Decimal(str(value))
    else:
        text = normalize_number(value)
        if not text:
            return None
        if text[:1] in DASHES | {"△", "▲"} and PLAIN_NUMBER.fullmatch(text[1:]):
            raise _CellError(str(NEGATIVE_MESSAGE))
        if not PLAIN_NUMBER.fullmatch(text):
            raise _CellError("数値で入力してください（なしは「－」）。")
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise _CellError("数値で入力してください。") from error
    if number < 0:
        raise _CellError(str(NEGATIVE_MESSAGE))
    return number


def _whole(value):
    number = _plain_number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _CellError("整数で入力してください。")
    return int(number)


NUMBER_SEPARATOR = "、"
NUMBER_SEPARATORS = re.compile(r"[、,，・\s]+")


def _numbers(value):
    """A list of whole numbers: "1、3" (or 1,3 or one number as a number cell); blank is none."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [_whole(value)]
    text = unicodedata.normalize("NFKC", _text(value)).strip()
    numbers = []
    for part in NUMBER_SEPARATORS.split(text):
        if not part:
            continue
        if not part.isdecimal():
            raise _CellError("番号を「、」で区切って入力してください（例：1、3）。")
        numbers.append(int(part))
    return numbers


def _year(value):
    try:
        year = _whole(value)
    except _CellError:
        year = -1
    if year is None:
        return None
    if not FISCAL_YEAR_MIN <= year <= FISCAL_YEAR_MAX:
        raise _CellError(f"年度は西暦の整数で入力してください（{FISCAL_YEAR_MIN}〜{FISCAL_YEAR_MAX}、例: 2022）。")
    return year


def _number(value):
    number = _plain_number(value)
    if number is None:
        return None
    if number == number.to_integral_value():
        return int(number)
    as_float = float(number)
    if Decimal(str(as_float)) != number:
        raise _CellError("桁数が多すぎます。")
    return as_float


def _flag(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip().lower()
    if text in TRUE_MARKS:
        return True
    if text in FALSE_MARKS:
        return False
    raise _CellError("「○」（はい）か空欄（いいえ）にしてください。")


def _date(value):
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time():
            raise _CellError("日付だけを入力してください（例: 2022-08-01）。")
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, (int, float, bool)):
        if value is None:
            return None
        raise _CellError("日付は 2022-08-01 の形で入力してください。")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or text in DASHES:
        return None
    for pattern in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise _CellError("日付は 2022-08-01 の形で入力してください。")


def _choice(value, column):
    text = _text(value).strip()
    if not text:
        return column.default
    for label, code in column.choices:
        if text in (label, code):
            return code
    raise _CellError("「{}」のどれかにしてください。".format("」「".join(label for label, _ in column.choices)))


def _parse(column, value):
    kind = column.kind
    if kind == "text":
        return _text(value)
    if kind == "code":
        return _text(value).strip()
    if kind == "lines":
        return lines(_text(value))
    if kind == "paragraphs":
        return paragraphs(_text(value))
    if kind == "whole":
        return _whole(value)
    if kind == "numbers":
        return _numbers(value)
    if kind == "year":
        return _year(value)
    if kind == "number":
        return _number(value)
    if kind == "flag":
        return _flag(value)
    if kind == "date":
        return _date(value)
    if kind == "choice":
        return _choice(value, column)
    return None  # wareki: shown, never read


def _is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Row:
    """One filled row of a sheet: its values in the plan file's terms, and where each came from."""

    sheet: Sheet
    number: int
    letters: dict  # key → column letter
    values: dict = field(default_factory=dict)
    blank: set = field(default_factory=set)  # keys whose cell was empty (not "－")

    def problem(self, key, message):
        column = self.sheet.column(key)
        return Problem(
            self.sheet.name, self.number, self.letters.get(key, ""), column.header if column else "", message
        )


def _read_sheet(ws, sheet, problems):
    rows = ws.iter_rows(max_col=MAX_COLUMNS)
    letters, positions = {}, {}
    for index, cell in enumerate(next(rows, ()), start=1):
        letter = get_column_letter(index)
        if cell.data_type == "f":
            problems.append(Problem(sheet.name, 1, letter, "", "見出しに数式は使えません。"))
            continue
        header = "" if cell.value is None else str(cell.value).strip()
        if not header:
            continue
        column = next((c for c in sheet.columns if c.header == header), None)
        if column is None:
            problems.append(
                Problem(sheet.name, 1, letter, header, f"「{header}」は「{sheet.name}」シートの列ではありません。")
            )
        elif column.key in letters:
            problems.append(Problem(sheet.name, 1, letter, header, f"列「{header}」が2つあります。"))
        else:
            letters[column.key], positions[index] = letter, column
    missing = [c.header for c in sheet.columns if c.key not in letters and c.kind != "wareki"]
    if missing:
        problems.append(Problem(sheet.name, 1, "", "", "列「{}」がありません。".format("」「".join(missing))))
        return []
    read = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            raise PlanFileError(f"「{sheet.name}」シートの行が多すぎます（上限 {MAX_ROWS:,} 行）。")
        if all(_is_blank(cell.value) for cell in cells):
            continue
        row = Row(sheet, number, letters)
        for index, cell in enumerate(cells, start=1):
            column = positions.get(index)
            if cell.data_type == "f":
                header = column.header if column else ""
                problems.append(
                    Problem(
                        sheet.name, number, get_column_letter(index), header, "数式は使えません。値を入力してください。"
                    )
                )
                continue
            if cell.data_type == "e":
                header = column.header if column else ""
                problems.append(
                    Problem(
                        sheet.name, number, get_column_letter(index), header, f"エラー値（{cell.value}）は使えません。"
                    )
                )
                continue
            if column is None:
                if not _is_blank(cell.value):
                    problems.append(
                        Problem(sheet.name, number, get_column_letter(index), "", "見出しのない列に値があります。")
                    )
                continue
            if column.kind == "wareki":
                continue
            try:
                value = _parse(column, cell.value)
            except _CellError as error:
                problems.append(row.problem(column.key, str(error)))
                continue
            if _is_blank(cell.value):
                row.blank.add(column.key)
                if column.required:
                    problems.append(row.problem(column.key, f"{column.header}を入力してください。"))
                    continue
            elif column.required and value in (None, ""):
                problems.append(row.problem(column.key, f"{column.header}を入力してください（「－」は使えません）。"))
                continue
            row.values[column.key] = value
        read.append(row)
    return read


def _read_guide(ws, problems):
    """The guide sheet is not read, but a formula there is refused like anywhere else."""
    for number, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
        if number > MAX_ROWS:
            raise PlanFileError(f"「{GUIDE}」シートの行が多すぎます。")
        for index, cell in enumerate(cells, start=1):
            if cell.data_type == "f":
                problems.append(Problem(GUIDE, number, get_column_letter(index), "", "数式は使えません。"))


# --- Reading: rows into the plan file's dict ------------------------------------------------------------


@dataclass
class ParsedWorkbook:
    """What a workbook says, before anything is written; data is the plan file's dict."""

    data: dict
    counts: list  # (what, rows) per sheet
    problems: list
    locations: dict  # the loader's name for a row ("施策 I-1-1 KPI 2023") → Row

    @property
    def plan_code(self):
        return (self.data.get("plan") or {}).get("code", "")

    @property
    def plan_title(self):
        return (self.data.get("plan") or {}).get("title", "")

    def locate(self, problem):
        """A loader message ("{where} {field}: {message}") as a Problem naming sheet, row and column."""
        # The longest name that starts the message ("施策 I-1-1 KGI" rather than "施策 I-1-1").
        spaces = [i for i, char in enumerate(problem) if char == " "]
        where = next((problem[:i] for i in reversed(spaces) if problem[:i] in self.locations), None)
        if where is None:
            return Problem(message=problem)
        row = self.locations[where]
        field_name, _, message = problem[len(where) + 1 :].partition(": ")
        column = next((c for c in row.sheet.columns if c.model_field == field_name), None)
        if column is None:
            return Problem(row.sheet.name, row.number, message=message or problem)
        return row.problem(column.key, message)


def _first(seen, key, row, problems, what, column_key):
    """Remember the row of key; a second row with the same key is a problem, and is left out."""
    if key in seen:
        problems.append(row.problem(column_key, f"{what}が重複しています（{seen[key].number}行目と同じ）。"))
        return False
    seen[key] = row
    return True


def _assemble(read, present, problems):
    """The rows of every sheet as the plan file's dict, with every cross-reference checked."""
    v = lambda row, key, default=None: row.values.get(key, default)  # noqa: E731
    locations = {}
    plan_rows = read[PLAN.name]
    plan = None
    if not plan_rows:
        if PLAN.name in present:
            problems.append(Problem(PLAN.name, 2, message="計画の行がありません（2行目に書いてください）。"))
    else:
        for extra in plan_rows[1:]:
            problems.append(Problem(PLAN.name, extra.number, message="計画は1行だけ書いてください。"))
        row = plan_rows[0]
        plan = {c.key: v(row, c.key, [] if c.kind == "paragraphs" else "") for c in PLAN.columns if c.kind != "wareki"}
        plan["adopted_on"] = v(row, "adopted_on")
        for name in LEVEL_NAMES:  # the file leaves out the names a plan does not give
            if not plan.get(name):
                plan.pop(name, None)
        for name, default in PLAN_RULES.items():  # and the rules a plan leaves as they are
            if plan.get(name) in (None, "", default):
                plan.pop(name, None)
        plan["start_year"], plan["end_year"] = v(row, "start_year"), v(row, "end_year")
        locations[f"計画 {plan['code']}"] = row

    national_priorities, priority_rows = [], {}
    for row in read[NATIONAL_PRIORITIES.name]:
        number = v(row, "number")
        if number is None or not _first(priority_rows, number, row, problems, f"重点取組事項の番号 {number}", "number"):
            continue
        national_priorities.append({"number": number, "name": v(row, "name", ""), "content": v(row, "content", "")})
        locations[f"国の重点取組事項 {number}"] = row

    policies, policy_rows = {}, {}
    for row in read[POLICIES.name]:
        number = v(row, "number")
        if number is None or not _first(policy_rows, number, row, problems, f"基本方針の番号 {number}", "number"):
            continue
        policies[number] = {
            "number": number,
            "numeral": v(row, "numeral", ""),
            "title": v(row, "title", ""),
            "description": v(row, "description", ""),
            "initiatives": [],
        }
        locations[f"基本方針{policies[number]['numeral']}"] = row

    def policy_of(row):
        number = v(row, "policy")
        if number is not None and number not in policies:
            problems.append(row.problem("policy", f"「{POLICIES.name}」シートに番号 {number} の基本方針がありません。"))
        return policies.get(number)

    initiatives, initiative_rows = {}, {}
    for row in read[INITIATIVES.name]:
        policy, number = policy_of(row), v(row, "number")
        if policy is None or number is None:
            continue
        key = (policy["number"], number)
        if not _first(initiative_rows, key, row, problems, f"基本方針{policy['numeral']}の取組 {number}", "number"):
            continue
        ini = {
            "number": number,
            "title": v(row, "title", ""),
            "urgency": v(row, "urgency"),
            "importance": v(row, "importance"),
            "status": v(row, "status", Initiative.Status.ACTIVE),
            "consideration": v(row, "consideration", ""),
            "future_no": v(row, "future_no"),
            "data_notes": v(row, "data_notes", []),
            "measures": [],
        }
        initiatives[key] = ini
        policy["initiatives"].append(ini)
        locations[f"基本方針{policy['numeral']} 取組{number}"] = row

    def initiative_of(row, policy):
        """The row's 取組 (by 基本方針番号 and 取組番号), or None with the problem listed."""
        ini = initiatives.get((policy["number"], v(row, "initiative")))
        if ini is None:
            missing = f"基本方針{policy['numeral']}の取組 {v(row, 'initiative')}"
            problems.append(row.problem("initiative", f"「{INITIATIVES.name}」シートに{missing} がありません。"))
        return ini

    group_rows = {}
    for row in read[GROUPS.name]:
        policy, number = policy_of(row), v(row, "number")
        if policy is None or number is None or v(row, "initiative") is None:
            continue
        ini = initiative_of(row, policy)
        if ini is None:
            continue
        key = (policy["number"], ini["number"], number)
        if not _first(group_rows, key, row, problems, f"この取組の第3階層 {number}", "number"):
            continue
        ini.setdefault("groups", []).append({"number": number, "title": v(row, "title", "")})
        locations[f"基本方針{policy['numeral']} 取組{ini['number']} 第3階層{number}"] = row

    measures, measure_rows = {}, {}
    for row in read[MEASURES.name]:
        policy, code = policy_of(row), v(row, "code")
        if policy is None or not code or v(row, "initiative") is None:
            continue
        if not _first(measure_rows, code, row, problems, f"施策コード {code}", "code"):
            continue
        ini = initiative_of(row, policy)
        if ini is None:
            continue
        measure = {
            "code": code,
            "ordinal": v(row, "ordinal"),
            "name": v(row, "name", ""),
            "content": v(row, "content", ""),
            "goal": v(row, "goal", ""),
            "effects": v(row, "effects", []),
            "notes": v(row, "notes", []),
            "data_notes": v(row, "data_notes", []),
            "schedule": [],
            "kgi": None,
            "kpi": {},
            "lcc": {},
        }
        if numbers := v(row, "national_priorities", []):
            measure["national_priorities"] = numbers
        if (group := v(row, "group")) is not None:
            measure["group"] = group
        if measure["ordinal"] is None:
            continue  # its problem is already listed
        measures[code] = measure
        ini["measures"].append(measure)
        locations[f"施策 {code}"] = row

    def measure_of(row):
        code = v(row, "measure")
        if code and code not in measures and code not in measure_rows:
            problems.append(row.problem("measure", f"「{MEASURES.name}」シートに施策コード {code} がありません。"))
        return measures.get(code)

    for row in read[SCHEDULE.name]:
        measure = measure_of(row)
        if measure is None:
            continue
        bar = {
            "label": v(row, "label", ""),
            "start_year": v(row, "start_year"),
            "end_year": v(row, "end_year"),
            "inferred": v(row, "inferred", False),
            "basis": v(row, "basis", ""),
        }
        measure["schedule"].append(bar)
        locations[f"施策 {measure['code']} スケジュール{len(measure['schedule'])}"] = row

    kgi_rows = {}
    for row in read[KGI.name]:
        measure = measure_of(row)
        if measure is None or not _first(kgi_rows, measure["code"], row, problems, "この施策のKGI", "measure"):
            continue
        measure["kgi"] = {
            "text": v(row, "text", ""),
            "indicator": v(row, "indicator", ""),
            "target": v(row, "target"),
            "target_text": v(row, "target_text", ""),
            "unit": v(row, "unit", ""),
            "direction": v(row, "direction", Direction.HIGHER),
            "cumulative": v(row, "cumulative", False),
        }
        locations[f"施策 {measure['code']} KGI"] = row

    target_rows = {}
    for row in read[TARGETS.name]:
        measure, year = measure_of(row), v(row, "fiscal_year")
        if measure is None or year is None:
            continue
        if not _first(
            target_rows, (measure["code"], year), row, problems, "この施策のこの年度のKPI目標", "fiscal_year"
        ):
            continue
        cell = {"value": v(row, "value"), "text": v(row, "text", ""), "note": v(row, "note", "")}
        if "value" in row.blank and not cell["text"]:
            problems.append(row.problem("value", "目標値か目標（文章）を入力してください（目標のない年度は「－」）。"))
            continue
        measure["kpi"][str(year)] = None if cell == {"value": None, "text": "", "note": ""} else cell
        locations[f"施策 {measure['code']} KPI {year}"] = row

    indicators, indicator_rows = {}, {}
    for row in read[INDICATORS.name]:
        measure, number = measure_of(row), v(row, "number")
        if measure is None or number is None:
            continue
        key = (measure["code"], number)
        if not _first(indicator_rows, key, row, problems, f"この施策の評価指標 {number}", "number"):
            continue
        indicator = {
            "number": number,
            "name": v(row, "name", ""),
            "unit": v(row, "unit", ""),
            "direction": v(row, "direction", Direction.HIGHER),
            "cumulative": v(row, "cumulative", False),
            "target": v(row, "target"),
            "target_text": v(row, "target_text", ""),
            "kpi": {},
        }
        indicators[key] = indicator
        measure.setdefault("indicators", []).append(indicator)
        locations[f"施策 {measure['code']} 評価指標{number}"] = row

    indicator_target_rows = {}
    for row in read[INDICATOR_TARGETS.name]:
        measure, number, year = measure_of(row), v(row, "indicator"), v(row, "fiscal_year")
        if measure is None or number is None or year is None:
            continue
        indicator = indicators.get((measure["code"], number))
        if indicator is None:
            problems.append(
                row.problem("indicator", f"「{INDICATORS.name}」シートにこの施策の評価指標 {number} がありません。")
            )
            continue
        key = (measure["code"], number, year)
        if not _first(indicator_target_rows, key, row, problems, "この評価指標のこの年度の目標", "fiscal_year"):
            continue
        cell = {"value": v(row, "value"), "text": v(row, "text", "")}
        indicator["kpi"][str(year)] = None if cell == {"value": None, "text": ""} else cell
        locations[f"施策 {measure['code']} 評価指標{number} {year}"] = row

    cost_rows = {}
    for row in read[COSTS.name]:
        measure, year = measure_of(row), v(row, "fiscal_year")
        if measure is None or year is None:
            continue
        if not _first(cost_rows, (measure["code"], year), row, problems, "この施策のこの年度の経費", "fiscal_year"):
            continue
        if "amount" in row.blank:
            problems.append(row.problem("amount", "経費を入力してください（計上しない年度は「－」）。"))
            continue
        measure["lcc"][str(year)] = v(row, "amount")
        if note := v(row, "note", ""):
            measure.setdefault("lcc_notes", {})[str(year)] = note
        locations[f"施策 {measure['code']} LCC {year}"] = row

    general_fund, fund_rows = [], {}
    for row in read[GENERAL_FUND.name]:
        policy, year = policy_of(row), v(row, "fiscal_year")
        if policy is None or year is None or v(row, "amount") is None:
            continue
        if not _first(
            fund_rows, (policy["number"], year), row, problems, "この基本方針のこの年度の一般財源", "fiscal_year"
        ):
            continue
        general_fund.append({"policy": policy["number"], "fiscal_year": year, "amount": v(row, "amount")})
        locations[f"一般財源 基本方針{policy['numeral']} {year}"] = row

    data = {"plan": plan}
    if national_priorities:
        data["national_priorities"] = national_priorities
    data.update(policies=list(policies.values()), general_fund=general_fund)
    return data, locations


def parse_workbook(content):
    """Read an uploaded plan workbook; nothing is written.

    Raises PlanFileError (one line) if the file is not a workbook that may be opened. Otherwise
    returns a ParsedWorkbook whose problems list every cell, row or sheet that is wrong.
    """
    check_package(content)
    problems = []
    read = {sheet.name: [] for sheet in SHEETS}
    present = frozenset()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
            wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
            try:
                present = frozenset(wb.sheetnames)
                by_name = {sheet.name: sheet for sheet in SHEETS}
                for name in wb.sheetnames:
                    ws = wb[name]
                    if name == GUIDE and hasattr(ws, "iter_rows"):
                        _read_guide(ws, problems)
                    elif name not in by_name or not hasattr(ws, "iter_rows"):
                        problems.append(Problem(name, message="計画ブックのシートではありません。削除してください。"))
                    else:
                        read[name] = _read_sheet(ws, by_name[name], problems)
            finally:
                wb.close()
    except PlanFileError:
        raise
    except Exception as error:  # noqa: BLE001 — openpyxl has no one error type for a malformed package
        raise PlanFileError(BROKEN) from error
    for sheet in SHEETS:
        if sheet.name not in present and not sheet.optional:
            problems.append(Problem(sheet.name, message=f"「{sheet.name}」シートがありません。"))
    data, locations = _assemble(read, present, problems)
    counts = [(sheet.counted_as, len(read[sheet.name])) for sheet in SHEETS if read[sheet.name] or not sheet.optional]
    return ParsedWorkbook(data, counts, problems, locations)


# --- Importing -----------------------------------------------------------------------------------------


class _DryRun(Exception):
    pass


def _load(parsed, commit):
    """Run the loader on the parsed dict; its problems join parsed.problems, located. The plan or None."""
    if parsed.problems:
        return None
    try:
        with transaction.atomic():
            plan = import_plan(parsed.data)
            if not commit:
                raise _DryRun  # leaving the block rolls every row back
        return plan
    except _DryRun:
        return None
    except PlanFileError as error:  # the reader above should leave the shape check nothing to find
        parsed.problems.append(Problem(message=str(error)))
    except PlanImportError as error:
        parsed.problems.extend(parsed.locate(problem) for problem in error.problems)
    return None


def check_workbook(content):
    """The dry run: every check the import makes, the database's included, and nothing kept.

    Raises PlanFileError (one line) for a file that is not a workbook; otherwise returns the
    ParsedWorkbook with every problem found (an empty list: the import would succeed now).
    """
    parsed = parse_workbook(content)
    _load(parsed, commit=False)
    return parsed


def import_workbook(content):
    """Create the plan in the workbook, all or nothing; WorkbookError lists every problem, located."""
    parsed = parse_workbook(content)
    plan = _load(parsed, commit=True)
    if parsed.problems:
        raise WorkbookError(parsed)
    return plan


def read_plan_source(path):
    """A plan file or a plan workbook at path, told apart by content: (data, load).

    ``load()`` creates the plan (all or nothing). PlanFileError (one line) if the file is neither;
    WorkbookError if a workbook's cells are wrong, each problem with its sheet, row and column.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(len(ZIP_MAGIC))
            content = head + f.read(MAX_BYTES + 1 - len(head)) if head == ZIP_MAGIC else None
    except FileNotFoundError as error:
        raise PlanFileError(f"計画ファイル {path} がありません。") from error
    except OSError as error:
        raise PlanFileError(f"計画ファイル {path} を開けませんでした。") from error
    if content is None:
        data = read_plan_file(path)
        return data, lambda: import_plan(data)
    parsed = parse_workbook(content)
    if parsed.problems:
        raise WorkbookError(parsed)

    def load():
        plan = _load(parsed, commit=True)
        if parsed.problems:
            raise WorkbookError(parsed)
        return plan

    return parsed.data, load
