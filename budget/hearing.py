"""The 予算ヒアリング's 事業シート: one measure on one A4 page, as the page, the print and the workbook show it.

Each sheet reads: the measure's content and goal, its KGI, the KPI target / actual / 達成度 / 評価 of
every year, the money chain of every year (budget.chain), the schedule's progress reported for the
year, the self-evaluation and 改善方針 of the year, last year's 改善方針, and the hearing's 確認・評価
and decision. ``business_sheets`` builds them for many measures in a fixed number of queries, and
the page, the print view and the workbook (budget.xlsx.sheets_to_xlsx) all read the same objects.
"""

import io
from collections import defaultdict
from dataclasses import dataclass, field

from initiatives.fiscal import fiscal_year_label
from initiatives.models import PLAN_ORDER
from kpi.facts import measure_facts, notes_of
from kpi.models import BarStatus

from .chain import chain_of_facts
from .models import Hearing, HearingDecision
from .reports import IMPROVEMENTS
from .xlsx import BOLD, BOX, FORMATS, HEADER, WRAP, new_workbook, safe_text, write_cell, write_report

BAR_STATES = dict(BarStatus.State.choices)


@dataclass
class YearLine:
    year: int
    label: str
    target: str
    actual: str
    rate: object  # Decimal or None
    grade: str
    chain: object  # budget.chain.ChainYear

    @property
    def cells(self):
        """The year's row of the sheet's table, as YEAR_HEADERS names them."""
        rate = float(self.rate) if self.rate is not None else None
        flags = "・".join(flag.label for flag in self.chain.flags)
        return [self.label, self.target, self.actual, rate, self.grade, *self.chain.amounts, flags]


@dataclass
class BusinessSheet:
    measure: object
    department: str
    policy: str
    initiative: str
    kgi: str
    notes: str = ""  # the ※ notes of its KPI targets and LCC, with their texts (initiatives.notes)
    group: str = ""  # the third level of a plan of four levels
    years: list = field(default_factory=list)
    schedule: list = field(default_factory=list)  # [(bar label, years it covers as text, progress this year)]
    evaluation: str = ""
    improvement: str = ""
    improvement_text: str = ""
    previous_improvement: str = ""
    previous_improvement_text: str = ""
    decision: HearingDecision | None = None

    @property
    def improvement_shown(self):
        return joined(self.improvement, self.improvement_text)

    @property
    def previous_improvement_shown(self):
        return joined(self.previous_improvement, self.previous_improvement_text)

    @property
    def decision_shown(self):
        decision = self.decision
        return joined(decision.get_decision_display(), decision.decision_text) if decision else ""


def joined(*parts):
    return " — ".join(str(p) for p in parts if p)


def business_sheets(plan, year, measures):
    """A BusinessSheet per measure (a queryset of the plan), in plan order, for the hearing of ``year``.

    Queries: the measures (with department, initiative, policy, KGI) and their schedule bars; the
    KPI facts of every year (kpi.facts); the money chain (three); the year's schedule progress; the
    year's hearing decisions.
    """
    scope = measures
    measures = list(
        measures.select_related("department", "initiative__policy", "kgi")
        .prefetch_related("schedule_bars")
        .order_by(*PLAN_ORDER)
    )
    facts = defaultdict(dict)
    for fact in measure_facts(plan, plan.fiscal_years, scope):
        facts[fact.measure_id][fact.year] = fact
    chain = chain_of_facts(scope, plan.fiscal_years)
    progress = {
        (measure_id, bar_id): state
        for measure_id, bar_id, state in BarStatus.objects.filter(
            measure_year__measure__in=scope, measure_year__fiscal_year=year
        ).values_list("measure_year__measure_id", "bar_id", "state")
    }
    decisions = {d.measure_id: d for d in HearingDecision.objects.filter(measure__in=scope, fiscal_year=year)}
    sheets = []
    for measure in measures:
        measure.plan = plan
        by_year = facts.get(measure.pk, {})
        first = next(iter(by_year.values()), None)
        kgi = getattr(measure, "kgi", None)
        sheet = BusinessSheet(
            measure=measure,
            department=measure.department.name if measure.department else "",
            policy=first.policy_label if first else "",
            initiative=first.initiative_label if first else "",
            group=first.group_label if first else "",
            kgi=kgi.text if kgi else "",
            notes=notes_of(list(by_year.values())),
            decision=decisions.get(measure.pk),
        )
        for y in plan.fiscal_years:
            fact = by_year.get(y)
            if fact is None:
                continue
            sheet.years.append(
                YearLine(
                    y,
                    fiscal_year_label(y),
                    fact.target_display(),
                    fact.actual_display(),
                    fact.assessment.rate,
                    fact.assessment.grade or fact.assessment.label,
                    chain(fact),
                )
            )
        for bar in measure.schedule_bars.all():
            state = progress.get((measure.pk, bar.pk), "")
            span = f"{fiscal_year_label(bar.start_year)}〜{fiscal_year_label(bar.end_year)}"
            sheet.schedule.append((bar.label, span, BAR_STATES.get(state, "－" if bar.covers(year) else "")))
        this, previous = by_year.get(year), by_year.get(year - 1)
        if this:
            sheet.evaluation = this.evaluation_comment
            sheet.improvement = str(IMPROVEMENTS.get(this.improvement, ""))
            sheet.improvement_text = this.improvement_text
        if previous:
            sheet.previous_improvement = str(IMPROVEMENTS.get(previous.improvement, ""))
            sheet.previous_improvement_text = previous.improvement_text
        sheets.append(sheet)
    return sheets


def hearings_of(plan, year):
    """{department id: Hearing} of the plan-year."""
    return {h.department_id: h for h in Hearing.objects.filter(plan=plan, fiscal_year=year)}


# --- The workbook: a summary sheet, then one A4 portrait sheet per measure ------------------------------

SHEET_COLUMNS = 11  # A: labels; the year table's 11 columns; long texts span B:K
LABEL_WIDTH, COLUMN_WIDTH = 13, 8.5
CHARS_PER_LINE = int((SHEET_COLUMNS - 1) * COLUMN_WIDTH / 2)  # full-width characters on a line of B:K
YEAR_HEADERS = (
    "年度",
    "KPI目標",
    "KPI実績",
    "達成度（%）",
    "評価",
    *(f"{label}" for label in ("LCC", "実施計画額", "予算要求額", "査定額", "決算額")),
    "注意",
)


def sheet_name(measure, taken):
    """An Excel sheet name from the measure's code: at most 31 characters, none of []:*?/\\, unique
    (as Excel compares them: "m-1" and "M-1" are the same sheet)."""
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in measure.code)[:31] or "施策"
    base, n = name, 2
    while name.lower() in taken:
        name = f"{base[:27]}_{n}"
        n += 1
    taken.add(name.lower())
    return name


class _SheetWriter:
    """Rows down one 事業シート: a label in A and its text across B:K (wrapped, the row made tall enough).
    Rows are written in order, as XlsxWriter's constant_memory mode needs."""

    def __init__(self, ws, styles):
        self.ws, self.styles, self.row = ws, styles, -1
        self.last = SHEET_COLUMNS - 1  # 0-based K

    def line(self, label, value="", bold=False):
        text = str(value or "－")
        self.row += 1
        lines = sum(max(1, -(-len(part) // CHARS_PER_LINE)) for part in text.splitlines() or [""])
        self.ws.set_row(self.row, max(15, 15 * lines))
        self.ws.write_string(self.row, 0, safe_text(str(label)), self.styles(BOLD))
        style = self.styles(WRAP, BOLD) if bold else self.styles(WRAP)
        self.ws.merge_range(self.row, 1, self.row, self.last, safe_text(text), style)

    def heading(self, text, size=12, gap=2):
        self.row += gap
        self.ws.write_string(self.row, 0, text, self.styles(BOLD, {"font_size": size}))

    def table(self, headers, rows, formats):
        self.row += 1
        header = self.styles(HEADER, WRAP)
        for col, text in enumerate(headers):
            self.ws.write_string(self.row, col, text, header)
        for values in rows:
            self.row += 1
            for col, value in enumerate(values):
                write_cell(self.ws, self.styles, self.row, col, value, formats.get(col + 1), style=(BOX, WRAP))


def sheets_to_xlsx(summary, sheets, year):
    """The department's hearing workbook: the summary (budget.reports.hearing_report) and a 事業シート
    per measure, each A4 portrait fitted to one page wide."""
    content = io.BytesIO()
    wb, styles = new_workbook(content)
    title = summary.sheet[:31]
    write_report(wb.add_worksheet(title), styles, summary)
    taken = {title.lower()}
    formats = {4: FORMATS["percent"], **{col: FORMATS["amount"] for col in range(6, 11)}}
    for sheet in sheets:
        ws = wb.add_worksheet(sheet_name(sheet.measure, taken))
        ws.set_portrait()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_column(0, 0, LABEL_WIDTH)
        ws.set_column(1, SHEET_COLUMNS - 1, COLUMN_WIDTH)
        out = _SheetWriter(ws, styles)
        out.heading(f"事業シート　{fiscal_year_label(year)} 予算ヒアリング", size=13, gap=1)
        plan = sheet.measure.plan  # set by business_sheets
        out.line(plan.measure_level, f"{sheet.measure.code}　{sheet.measure.name}", bold=True)
        out.line(plan.policy_level, sheet.policy)
        out.line(plan.initiative_level, sheet.initiative)
        if plan.group_level:
            out.line(plan.group_level, sheet.group)
        out.line("担当課", sheet.department)
        out.line("内容", sheet.measure.content)
        out.line("目指す姿／目標", sheet.measure.goal)
        out.line("数値目標（KGI）", sheet.kgi)
        out.heading("年度別の目標・実績と予算の流れ（金額は千円）")
        out.table(YEAR_HEADERS, [y.cells for y in sheet.years], formats)
        if sheet.notes:
            out.line("注記", sheet.notes)
        out.heading(f"スケジュールの進捗（{fiscal_year_label(year)}）")
        for label, span, state in sheet.schedule or [("", "", "")]:
            out.line(label, f"{span}　進捗：{state or '－'}" if span else "")
        out.heading(f"自己評価・改善方針（{fiscal_year_label(year)}）")
        out.line("評価・要因分析", sheet.evaluation)
        out.line("改善方針", sheet.improvement_shown)
        out.line("前年度の改善方針", sheet.previous_improvement_shown)
        out.heading("予算ヒアリング")
        out.line("確認・評価", sheet.decision.evaluation if sheet.decision else "")
        out.line("決定", sheet.decision_shown)
        ws.print_area(0, 0, out.row, out.last)
    wb.close()
    return content.getvalue()
