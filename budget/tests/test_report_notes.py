"""The reports show KPI values as the plan prints them ("30%減") and carry the plan's ※ notes.

Every noted KPI target and LCC cell of the data (KpiTarget.note, PlannedCost.note) appears in the 注記 column on
the row of its measure, with its years and, for a footnote mark, the footnote's text (Measure.notes), on the
page, in the workbook and in the CSV of the 予算ヒアリング資料; the LCC notes also in the 経費の計画と実績 and the
計画期間における経費 reports, on the row of their 基本方針. The expected notes are read from the database.
"""

import csv
import html
import io
import re
from collections import defaultdict

import pytest
from django.urls import reverse

from budget.models import PlannedCost
from initiatives.fiscal import fiscal_year_label, fiscal_year_short
from initiatives.models import Measure
from initiatives.notes import KPI_TARGET, LCC
from kpi.models import KpiTarget, MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db

YEAR = 2025
NOTES = "注記"


def url(plan, kind, **params):
    return reverse("budget:report", args=[plan.code, kind]), params


def noted_cells(plan):
    """{measure code: {(what, year): note}} of every noted KPI target and LCC cell in the database."""
    found = defaultdict(dict)
    for code, year, note in (
        KpiTarget.objects.filter(measure__plan=plan)
        .exclude(note="")
        .values_list("measure__code", "fiscal_year", "note")
    ):
        found[code][KPI_TARGET, year] = note
    for code, year, note in (
        PlannedCost.objects.filter(measure__plan=plan)
        .exclude(note="")
        .values_list("measure__code", "fiscal_year", "note")
    ):
        found[code][LCC, year] = note
    return found


def footnote(measure, note):
    """The text of the measure's footnote a mark ("※2") points to, without the mark; None for a word ("試行")."""
    mark = re.fullmatch(r"[※＊*]\s*(\d+)", note)
    if not mark:
        return None
    paragraph = next(p for p in measure.note_lines() if re.match(rf"[※＊*]\s*{mark.group(1)}(?!\d)", p))
    return re.sub(r"^[※＊*]\s*\d+\s*", "", paragraph)


def parse_notes(text, plan):
    """{(what, year): note} from a 注記 cell's lines such as "KPI目標 R4〜R6：※2、R7：※3"."""
    years = {fiscal_year_short(y): y for y in plan.fiscal_years}
    cells = {}
    for line in (text or "").splitlines():
        what, _, rest = line.partition(" ")
        if what not in (KPI_TARGET, LCC):
            continue
        for part in rest.split("、"):
            span, _, note = part.partition("：")
            first, _, last = span.partition("〜")
            for year in range(years[first], years[last or first] + 1):
                cells[what, year] = note
    return cells


def page_text(cell):
    """A page cell as it reads: line breaks for <br>, no tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br>", "\n", str(cell))))


def page_table(client, plan, kind, **params):
    path, params = url(plan, kind, **params)
    response = client.get(path, params)
    assert response.status_code == 200
    headers = [c.header for c in response.context["report"].columns]
    return headers, [[page_text(c) for c in row] for row in response.context["cells"]], response.content.decode()


def workbook_table(client, plan, kind, sheet, **params):
    path, params = url(plan, kind, **params)
    ws = workbooks.load(client.get(path, {**params, "format": "xlsx"}).content)[sheet]
    first = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value in ("施策コード", "区分"))
    headers = [ws.cell(first, c).value for c in range(1, ws.max_column + 1)]
    rows = [[ws.cell(r, c) for c in range(1, ws.max_column + 1)] for r in range(first + 1, ws.max_row + 1)]
    return headers, [row for row in rows if row[0].value != "計"]


def csv_table(client, plan, kind, **params):
    path, params = url(plan, kind, **params)
    parsed = list(csv.reader(io.StringIO(client.get(path, {**params, "format": "csv"}).content.decode("utf-8-sig"))))
    return parsed[0], parsed[1:]


@pytest.fixture
def reduction(plan):
    """II-1-1 AI・RPAの利活用拡大 (削減率, 30%減 every year) with R7's actual: a 25% reduction."""
    m = Measure.objects.get(plan=plan, code="II-1-1")
    MeasureYear.objects.create(measure=m, fiscal_year=YEAR, kpi_actual=25)
    return m


def test_hearing_report_shows_30_percent_reduction_on_the_page_the_csv_and_the_workbook(
    client, viewer, plan, reduction
):
    client.force_login(viewer)
    headers, cells, content = page_table(client, plan, "hearing", year=YEAR)
    row = next(r for r in cells if r[0] == reduction.code)
    assert (row[headers.index("KPI目標")], row[headers.index("KPI実績")]) == ("30%減", "25%減")
    assert "<td>30%減</td>" in content and "<td>25%減</td>" in content

    headers, rows = csv_table(client, plan, "hearing", year=YEAR)
    row = next(r for r in rows if r[0] == reduction.code)
    label = fiscal_year_label(YEAR)
    assert (row[headers.index(f"{label} KPI目標")], row[headers.index(f"{label} KPI実績")]) == ("30%減", "25%減")

    # the workbook keeps numbers, and a number format makes them read the same
    headers, rows = workbook_table(client, plan, "hearing", "予算ヒアリング")  # every year
    row = next(r for r in rows if r[0].value == reduction.code)
    targets = [row[c] for c, h in enumerate(headers) if h == "KPI目標"]
    assert [c.value for c in targets] == [30] * len(plan.fiscal_years)
    assert all(c.data_type == "n" and c.number_format == '#,##0"%減"' for c in targets)
    actual = [row[c] for c, h in enumerate(headers) if h == "KPI実績"][-1]
    assert (actual.value, actual.number_format) == (25, '#,##0"%減"')
    # a text target stays text; "－" stays an empty cell
    counters = next(r for r in rows if r[0].value == "I-6-1")
    targets = [counters[c] for c, h in enumerate(headers) if h == "KPI目標"]
    assert [c.value for c in targets] == [None, 1, "導入を決定した全窓口（※2）", "導入を決定した全窓口（※2）"]
    assert targets[1].number_format == '#,##0"窓口（試行）"' and targets[2].data_type == "s"


def assert_noted(text, measure, expected, plan):
    """The 注記 text names exactly the measure's noted cells, each with its years, and each footnote's text."""
    assert parse_notes(text, plan) == expected, measure.code
    for note in set(expected.values()):
        body = footnote(measure, note)
        assert body is None or body in text, (measure.code, note)


def test_every_note_of_the_data_is_on_its_measures_row_of_the_hearing_report(client, viewer, plan):
    expected = noted_cells(plan)
    assert sum(1 for cells in expected.values() for what, _ in cells if what == KPI_TARGET) == 7
    assert sum(1 for cells in expected.values() for what, _ in cells if what == LCC) == 7
    measures = {m.code: m for m in Measure.objects.filter(plan=plan)}
    client.force_login(viewer)

    headers, cells, _ = page_table(client, plan, "hearing")
    page = {row[0]: row[headers.index(NOTES)] for row in cells}
    headers, rows = workbook_table(client, plan, "hearing", "予算ヒアリング")
    book = {row[0].value: row[headers.index(NOTES)] for row in rows}
    headers, rows = csv_table(client, plan, "hearing")
    sheet = {row[0]: row[headers.index(NOTES)] for row in rows}

    assert set(page) == set(book) == set(sheet) == set(measures)
    for code, measure in measures.items():
        noted = expected.get(code, {})
        for text in (page[code], book[code].value or "", sheet[code]):
            assert_noted(text, measure, noted, plan)
        assert page[code] == (book[code].value or "") == sheet[code]
        if noted:
            assert book[code].alignment.wrap_text

    # one year: only that year's notes, on the same rows
    headers, cells, _ = page_table(client, plan, "hearing", year=YEAR)
    for row in cells:
        mine = {key: note for key, note in expected.get(row[0], {}).items() if key[1] == YEAR}
        assert_noted(row[headers.index(NOTES)], measures[row[0]], mine, plan)


def lcc_blocks(text):
    """{measure code: its block of a budget report's 注記} (a block starts with "<code> <name>")."""
    blocks, code = defaultdict(str), None
    for line in (text or "").splitlines():
        head = re.match(r"(I{1,2}-\d+-\d+) ", line)
        if head and not line.startswith((KPI_TARGET, LCC)):
            code = head.group(1)
        blocks[code] += line + "\n"
    return blocks


def test_the_lcc_notes_are_on_their_policy_rows_of_the_budget_reports(client, viewer, plan):
    expected = defaultdict(dict)  # (policy label, year or None) → {measure: {(LCC, year): note}}
    measures = {m.code: m for m in Measure.objects.filter(plan=plan).select_related("initiative__policy")}
    for code, cells in noted_cells(plan).items():
        policy = f"基本方針{measures[code].initiative.policy.numeral}"
        for (what, year), note in cells.items():
            if what == LCC:
                expected[policy, None].setdefault(code, {})[what, year] = note
                expected[policy, fiscal_year_label(year)].setdefault(code, {})[what, year] = note
    assert expected
    client.force_login(viewer)
    for kind, sheet, key in (
        ("execution", "経費の計画と実績", lambda row: (row[0], row[1])),
        ("budget", "図表2-4-1", lambda row: (row[0], None)),
    ):
        headers, cells, _ = page_table(client, plan, kind)
        page = {key(row): row[headers.index(NOTES)] for row in cells}
        headers, rows = workbook_table(client, plan, kind, sheet)
        book = {key([c.value for c in row]): row[headers.index(NOTES)].value or "" for row in rows}
        headers, rows = csv_table(client, plan, kind)
        sheet_rows = {key(row): row[headers.index(NOTES)] for row in rows}
        assert page == book == sheet_rows, kind
        for row_key, text in page.items():
            blocks = lcc_blocks(text)
            assert set(blocks) == set(expected.get(row_key, {})), (kind, row_key)
            for code, noted in expected.get(row_key, {}).items():
                assert blocks[code].startswith(f"{code} {measures[code].name}\n")
                assert_noted(blocks[code], measures[code], noted, plan)


def test_the_business_sheet_carries_the_notes_and_reads_the_kpi_values_as_the_plan(
    client, viewer, plan, department, reduction
):
    standard = Measure.objects.get(plan=plan, code="II-2-1")
    Measure.objects.filter(pk__in=[standard.pk, reduction.pk]).update(department=department)
    expected = noted_cells(plan)[standard.code]
    client.force_login(viewer)
    path = reverse("budget:hearing_sheets", args=[plan.code, YEAR, department.code])
    content = client.get(path).content.decode()
    sheet = content.split(f'id="sheet-{standard.code}"', 1)[1].split("</article>", 1)[0]
    notes = page_text(sheet.split('class="facts compact sheet-notes"><dt>注記</dt><dd>', 1)[1].split("</dd>", 1)[0])
    assert_noted(notes, standard, expected, plan)
    assert "<td>1業務（※2）</td>" in sheet and "<td>20業務（※3）</td>" in sheet
    rpa = content.split(f'id="sheet-{reduction.code}"', 1)[1].split("</article>", 1)[0]
    assert rpa.count("<td>30%減</td>") == 4 and "<td>25%減</td>" in rpa

    book = workbooks.load(client.get(path, {"format": "xlsx"}).content)
    ws = book[standard.code]
    lines = {row[0].value: row[1].value for row in ws.iter_rows() if row[0].value}
    assert_noted(lines[NOTES], standard, expected, plan)
    ws = book[reduction.code]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "年度")
    targets = [ws.cell(header + i, 2) for i in range(1, len(plan.fiscal_years) + 1)]
    assert [(c.value, c.number_format) for c in targets] == [(30, '#,##0"%減"')] * len(plan.fiscal_years)
    assert ws.cell(header + len(plan.fiscal_years), 3).value == 25


def test_the_final_and_revised_reports_carry_every_note_on_its_row(client, viewer, plan):
    """Every noted KPI target and LCC of the plan shows its mark in the 注記 of its measure's row (総括) and of
    its measure-year's row (当初・見直し後・実績), with the footnote's text (read from the database)."""
    from initiatives.notes import footnotes, mark_of
    from kpi.models import KpiTarget

    rows = [*KpiTarget.objects.exclude(note=""), *PlannedCost.objects.exclude(note="")]
    noted = [(r.measure, r.fiscal_year, r.note) for r in rows]
    assert len(noted) == 14  # 7 KPI and 7 LCC cells, as the plan prints them
    client.force_login(viewer)
    final = client.get(reverse("budget:report", args=[plan.code, "final"])).context
    final_notes = {row[0]: row[-1] for row in final["rows"]}
    revised = client.get(reverse("budget:report", args=[plan.code, "revised"])).context
    revised_notes = {(row[0], row[2]): row[-1] for row in revised["rows"]}
    for measure, year, note in noted:
        mark = mark_of(note) or note
        assert mark in final_notes[measure.code], (measure.code, note)
        assert mark in revised_notes[(measure.code, fiscal_year_label(year))], (measure.code, year, note)
        text = footnotes(measure.notes).get(mark_of(note) or "")
        if text:
            assert text in final_notes[measure.code]
