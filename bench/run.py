"""Scale benchmark: a synthetic plan of 5,000 measures × 10 fiscal years with actuals.

Run with `make bench`. It builds its own SQLite database in a temporary
folder (removed at exit) or uses BENCH_DATABASE_URL, then measures server time
of the dashboard and the reports, the hearing workbook's export time and peak
memory, and the dashboard's time over a floor measured in the same run,
samples interleaved (dashboard, floor, dashboard, floor, …).

The floor (``floor``) does the dashboard's work the shortest way, written here
from the models and kpi.achievement only (none of the dashboard's own code):
the signed-in request's session, user and role lookups, the plan, one raw SQL
query for the measures joined with the year's target, planned cost and record,
the delayed schedule bars, the plan's grade thresholds, the year's 入力期限; then one Python pass
grading every measure (kpi.achievement.assess) and counting PDCA stages, grades
and 要確認 reasons per 取組, summed per 基本方針 and plan, and the same summary
rows and 要確認 list written out as a small HTML table. Writes the section
"dashboard" of docs/benchmark.md and prints the figures.
"""

import html
import json
import os
import platform
import re
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import ROUND_HALF_UP, Decimal

from portal_setup import result_tables, start_django, write_section  # noqa: E402 (bench/ is the script's folder)
from synthetic import MEASURES, YEARS, build  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "9"))  # dashboard/floor samples, interleaved
FLOOR_GOAL = 2  # the dashboard within twice the floor

start_django("ohnojo-bench-")

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def timed(fn, runs=RUNS):
    fn()  # warm caches (templates, URL resolver)
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


FLOOR_ROWS = """
    SELECT m.id, m.code, m.name, i.id, i.number, i.title, p.id, p.numeral, p.title, d.name, d.is_sample,
           k.direction, t.value, t.text, c.amount, y.id, y.kpi_actual, y.kpi_actual_text, y.judged_grade,
           y.actual_cost, y.work_done, y.evaluation_comment, y.improvement, y.status
    FROM initiatives_measure m
    JOIN initiatives_initiative i ON i.id = m.initiative_id
    JOIN initiatives_policy p ON p.id = i.policy_id
    LEFT JOIN initiatives_department d ON d.id = m.department_id
    LEFT JOIN kpi_kgi k ON k.measure_id = m.id
    LEFT JOIN kpi_kpitarget t ON t.measure_id = m.id AND t.fiscal_year = %s
    LEFT JOIN budget_plannedcost c ON c.measure_id = m.id AND c.fiscal_year = %s
    LEFT JOIN kpi_measureyear y ON y.measure_id = m.id AND y.fiscal_year = %s
    WHERE m.plan_id = %s ORDER BY p.number, i.number, m.ordinal
"""
FLOOR_DELAYED = """
    SELECT DISTINCT y.measure_id FROM kpi_barstatus b JOIN kpi_measureyear y ON y.id = b.measure_year_id
    JOIN initiatives_measure m ON m.id = y.measure_id
    WHERE m.plan_id = %s AND y.fiscal_year = %s AND b.state = 'delayed'
"""
STAGES = ("P", "D", "C", "A")
GRADE_KEYS = ("S", "A", "B", "C", "D", "none")
REASONS = {
    "delayed": "スケジュール遅延",
    "low_grade": "評価C・D",
    "not_entered": "未入力（期限超過）",
    "returned": "差戻し",
}


def decimal(value):
    """A numeric column as Decimal (SQLite's driver gives int or float, PostgreSQL's Decimal)."""
    from decimal import Decimal

    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


class Group:
    """Counts and sums of one 取組, 基本方針 or the plan."""

    __slots__ = ("label", "measures", "stages", "grades", "reasons", "rate_sum", "rates", "planned", "actual")

    def __init__(self, label):
        self.label = label
        self.measures = self.rate_sum = self.rates = self.planned = 0
        self.actual = None
        self.stages = dict.fromkeys(STAGES, 0)
        self.grades = dict.fromkeys(GRADE_KEYS, 0)
        self.reasons = dict.fromkeys(REASONS, 0)

    def merge(self, other):
        self.measures += other.measures
        self.rate_sum += other.rate_sum
        self.rates += other.rates
        self.planned += other.planned
        if other.actual is not None:
            self.actual = (self.actual or 0) + other.actual
        for mine, theirs in ((self.stages, other.stages), (self.grades, other.grades), (self.reasons, other.reasons)):
            for key, n in theirs.items():
                mine[key] += n

    def cells(self):
        from decimal import ROUND_HALF_UP, Decimal

        tenth = Decimal("0.1")
        average = (self.rate_sum / self.rates).quantize(tenth, ROUND_HALF_UP) if self.rates else "－"
        rate = (
            (Decimal(self.actual) / self.planned * 100).quantize(tenth, ROUND_HALF_UP)
            if self.planned and self.actual is not None
            else "－"
        )
        actual = "－" if self.actual is None else f"{self.actual:,}"
        counts = [*self.stages.values(), *self.grades.values()]
        return [self.measures, *counts, average, f"{self.planned:,}", actual, rate, *self.reasons.values()]


def floor(session_key, plan_code, year, today):
    """The dashboard's work, the shortest way (see the module's docstring); returns the page as text."""
    from django.contrib.auth.models import Group as AuthGroup
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from initiatives.fiscal import fiscal_year_closed
    from initiatives.models import Plan
    from kpi.achievement import assess, grade_scale
    from kpi.models import EntryDeadline

    session = SessionStore(session_key)
    user = User.objects.get(pk=session["_auth_user_id"])
    roles = set(AuthGroup.objects.filter(user=user).values_list("portal_role__role", flat=True))
    assert roles, "a signed-in account with a role"
    plan = Plan.objects.get(code=plan_code)
    scale = grade_scale(plan)
    deadline = EntryDeadline.objects.filter(plan=plan, fiscal_year=year).first()  # the days left, shown
    closed = fiscal_year_closed(year, today)
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_DELAYED, [plan.pk, year])
        delayed = {row[0] for row in cursor.fetchall()}
        cursor.execute(FLOOR_ROWS, [year, year, year, plan.pk])
        rows = cursor.fetchall()

    initiatives, policies, order = {}, {}, []  # order: (policy id, [initiative ids])
    attention, attention_count = [], 0
    for (
        measure_id,
        code,
        name,
        initiative_id,
        initiative_number,
        initiative_title,
        policy_id,
        numeral,
        policy_title,
        department,
        sample,
        direction,
        target,
        target_text,
        planned,
        record_id,
        actual,
        actual_text,
        judged,
        actual_cost,
        work_done,
        evaluation,
        improvement,
        status,
    ) in rows:
        group = initiatives.get(initiative_id)
        if group is None:
            group = initiatives[initiative_id] = Group(f"取組{initiative_number}：{initiative_title}")
            if policy_id not in policies:
                policies[policy_id] = Group(f"基本方針{numeral} {policy_title}")
                order.append((policy_id, []))
            order[-1][1].append(initiative_id)
        actual = decimal(actual)
        entered = record_id is not None and (
            actual is not None or bool(actual_text) or actual_cost is not None or bool(work_done)
        )
        stage = "A" if improvement else "C" if evaluation else "D" if entered else "P"
        assessment = assess(direction or "higher", decimal(target), target_text or "", actual, judged or "", scale)
        grade = assessment.grade or "none"
        reasons = [
            key
            for key, applies in (
                ("delayed", measure_id in delayed),
                ("low_grade", assessment.low),
                ("not_entered", closed and not entered),
                ("returned", status == "returned"),
            )
            if applies
        ]
        group.measures += 1
        group.stages[stage] += 1
        group.grades[grade] += 1
        for key in reasons:
            group.reasons[key] += 1
        if assessment.rate is not None:
            group.rate_sum += assessment.rate
            group.rates += 1
        group.planned += planned or 0
        if actual_cost is not None:
            group.actual = (group.actual or 0) + actual_cost
        if reasons:
            attention_count += 1
            if len(attention) < 50:
                who = f"{department}（サンプル）" if sample else department or "－"
                attention.append((code, name, who, [REASONS[k] for k in reasons], assessment.rate_display, grade))

    total = Group(plan.title)
    summaries = [total]
    for policy_id, members in order:
        policy = policies[policy_id]
        for initiative_id in members:
            policy.merge(initiatives[initiative_id])
        total.merge(policy)
        summaries += [policy, *(initiatives[i] for i in members)]
    out = [f"<h1>{html.escape(plan.title)} {year}</h1>"]
    if deadline:
        out.append(f"<p>{deadline.due_on} {(deadline.due_on - today).days}</p>")
    # the grades counted with their shares of all the measures (the dashboard's 評価ごとの件数と割合)
    out.append("<table>")
    for letter in (*scale.letters, "none"):
        n = total.grades[letter]
        pct = (Decimal(n) * 100 / total.measures).quantize(Decimal("0.1"), ROUND_HALF_UP) if total.measures else "－"
        out.append(f"<tr><th>{letter}</th><td>{n}</td><td>{pct}%</td></tr>")
    out.append("</table><table>")
    for group in summaries:
        cells = "".join(f"<td>{cell}</td>" for cell in group.cells())
        out.append(f"<tr><th>{html.escape(group.label)}</th>{cells}</tr>")
    out.append(f"</table><h2>要確認の施策（{attention_count}件）</h2><table>")
    for code, name, who, reasons, rate, grade in attention:
        badges = "".join(f"<span>{r}</span>" for r in reasons)
        out.append(
            f"<tr><td>{html.escape(code)} {html.escape(name)}</td><td>{html.escape(who)}</td><td>{badges}</td>"
            f"<td>{rate}</td><td>{grade}</td></tr>"
        )
    out.append("</table>")
    return "".join(out), len(summaries), attention_count


def interleaved(client, plan, year, params):
    """Median seconds of the dashboard and of the floor, sampled in turn (D F D F …) so that both see the
    same machine load; and what the floor and the page count (to check they did the same work)."""
    from django.utils import timezone

    session_key = client.cookies["sessionid"].value

    def dashboard():
        response = client.get("/", params)
        assert response.status_code == 200, response.status_code
        return response

    def the_floor():
        return floor(session_key, plan.code, year, timezone.localdate())

    page = dashboard().content.decode()  # warm both (templates, URL resolver, caches)
    _, rows, attention = the_floor()
    shown = re.search(r"要確認の施策（(\d+)件）", page)
    samples = {dashboard: [], the_floor: []}
    for _ in range(PAIRS):
        for fn in samples:
            started = time.perf_counter()
            fn()
            samples[fn].append(time.perf_counter() - started)
    return (
        statistics.median(samples[dashboard]),
        statistics.median(samples[the_floor]),
        rows,
        attention,
        int(shown.group(1)) if shown else None,
    )


def main():
    load_average = round(os.getloadavg()[0], 2)  # other work on the machine shows in every figure
    t = time.perf_counter()
    plan, user, year = build()
    build_seconds = time.perf_counter() - t
    client = Client()
    client.force_login(user)
    params = {"plan": plan.code, "year": year}

    def get(path, query):
        def run():
            response = client.get(path, query)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return run

    dashboard, floor, floor_rows, floor_attention, shown_attention = interleaved(client, plan, year, params)
    hearing_page = timed(get(f"/plans/{plan.code}/reports/hearing/", {"year": year}))
    execution_page = timed(get(f"/plans/{plan.code}/reports/execution/", {}))
    # A plan this size gets its workbooks from a background job (budget.exports): the job's work is timed
    # directly (bench/xlsx_writers.py times the request that registers the job, and the wait for the file).
    from budget.exports import build_file
    from budget.views import REPORTS

    def workbook(params):
        return lambda: build_file(plan, "hearing", "xlsx", params, REPORTS)

    workbook_year = timed(workbook({"year": str(year)}), runs=3)
    workbook_all = timed(workbook({}), runs=3)

    def peak(params):
        tracemalloc.start()
        workbook(params)()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak_year = peak({"year": str(year)})
    peak_all = peak({})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ratio = dashboard / floor
    results = {
        "measures": MEASURES,
        "load_average": load_average,
        "fiscal_years": YEARS,
        "database": connection.vendor,
        "build_seconds": round(build_seconds, 1),
        "floor_ms": round(floor * 1000, 1),
        "floor_rows": floor_rows,
        "pairs": PAIRS,
        "dashboard_ms": round(dashboard * 1000, 1),
        "dashboard_over_floor": round(ratio, 2),
        "hearing_page_one_year_ms": round(hearing_page * 1000, 1),
        "execution_page_ms": round(execution_page * 1000, 1),
        "hearing_xlsx_one_year_s": round(workbook_year, 2),
        "hearing_xlsx_all_years_s": round(workbook_all, 2),
        "hearing_xlsx_one_year_peak_python_mb": round(peak_year / 2**20, 1),
        "hearing_xlsx_all_years_peak_python_mb": round(peak_all / 2**20, 1),
        "process_max_rss_mb": round(rss_mb, 1),
    }
    # The hearing workbook as used at a 予算ヒアリング: one fiscal year, every measure.
    checks = {
        f"dashboard ≤ {FLOOR_GOAL}× floor": ratio <= FLOOR_GOAL,
        "the floor and the dashboard count the same 要確認 measures": floor_attention == shown_attention,
        "hearing workbook, 5,000 measures, one year ≤ 5 s": workbook_year <= 5,
        "hearing workbook peak ≤ 300 MB (one year and all years)": max(peak_year, peak_all) / 2**20 <= 300,
        "all-years hearing workbook, 5,000 measures, built ≤ 3 s": workbook_all <= 3,
    }
    write_report(results, checks)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    for name, ok in checks.items():
        print(f"{'OK ' if ok else 'NG '} {name}")
    return 0 if all(checks.values()) else 1


def write_report(results, checks):
    lines = [
        "## ダッシュボードと帳票（bench/run.py）",
        "",
        "`make bench` で実行します（`make test` には含みません）。合成計画（個別施策 "
        f"{results['measures']:,} 件 × {results['fiscal_years']} 年度、実績・目標・経費つき）を一時DBに作り、"
        "同じ実行の中で次を測ります。時間は中央値（サーバー側、Django テストクライアント経由）。",
        "",
        f"- 実行日: {time.strftime('%Y-%m-%d')}　Python {platform.python_version()}　DB: {results['database']}"
        f"　CPU: {os.cpu_count()} コア　開始時の負荷（1分平均）: {results['load_average']}",
        "",
    ]
    labels = {
        "build_seconds": "データ作成（秒）",
        "floor_ms": "床：同じ集計を最短の方法で（下記、ms）",
        "dashboard_ms": "ダッシュボード（ms）",
        "dashboard_over_floor": f"ダッシュボード ÷ 床（目標 ≤ {FLOOR_GOAL}）",
        "floor_rows": "集計の行数（計画・基本方針・取組）",
        "pairs": "交互に測った回数（ダッシュボード、床、ダッシュボード、床…）",
        "hearing_page_one_year_ms": "予算ヒアリング資料の画面・1年度（ms）",
        "execution_page_ms": "経費の計画と実績の画面（ms）",
        "hearing_xlsx_one_year_s": "予算ヒアリング資料 .xlsx・1年度・5,000施策（秒、目標 ≤ 5）",
        "hearing_xlsx_one_year_peak_python_mb": "同上のピークメモリ（tracemalloc、MB、目標 ≤ 300）",
        "hearing_xlsx_all_years_s": "予算ヒアリング資料 .xlsx・全10年度・5,000施策の作成（秒、目標 ≤ 3）",
        "hearing_xlsx_all_years_peak_python_mb": "同上のピークメモリ（tracemalloc、MB、目標 ≤ 300）",
        "process_max_rss_mb": "プロセスの最大RSS（MB、データ作成を含む）",
    }
    lines += result_tables([(label, results[key]) for key, label in labels.items()], checks)
    lines += [
        "",
        "床（floor）は、ダッシュボードと同じ仕事を最短の方法で行う時間です（bench/run.py の floor、"
        "ダッシュボード自身のコードは使わず、モデルと kpi.achievement だけで書いたもの）："
        "ログイン中の要求と同じセッション・利用者・役割の読み出し、計画、施策にその年度の目標・経費・実績を結合した"
        "1回の生SQL、遅延しているスケジュールの問合せ、計画の評価基準、その年度の入力期限。"
        "続いて1回の Python のループで全施策の達成度と評価（kpi.achievement.assess）、PDCAの段階、要確認の理由を求めて"
        "取組ごとに数え、基本方針と計画に合計し、同じ集計行と要確認の一覧（50件まで）を小さなHTMLにします。"
        "ダッシュボードと床は交互に測り、それぞれの中央値を比べます。"
        "ダッシュボードが別に行う予算の流れの注意（budget.chain）は床に含みません。",
        "",
        "帳票のブックは XlsxWriter（constant_memory）で書きます（openpyxl との比較は下の節）。作成中は循環参照の GC を"
        "止めます。施策が "
        "EXPORT_INLINE_MAX_MEASURES（既定 1,000）を超える計画では、要求はジョブを登録してすぐ「作成中」の画面を返し、"
        "ファイルはバックグラウンド（budget.exports）で作ってデータベースに置きます。表の作成時間はそのジョブの仕事"
        "（行の組み立てと書き出し）を直接測ったものです。要求の応答とファイルができるまでの時間は下の節（bench/xlsx_writers.py）にあります。",
    ]
    write_section("dashboard", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
