"""Import speed: a year's actuals for 20,000 measures through the workbook page, as staff would do it.

Run by `make bench` after bench/run.py (or alone). It builds its own SQLite database in a temporary
folder (or uses BENCH_DATABASE_URL): one plan-year with BENCH_IMPORT_ROWS measures (20,000), half of
them with records already. Then, through the Django test client as the DX推進部門: download the
all-departments workbook, fill in every row with openpyxl (not timed), upload it (the preview: every
row changes) and confirm it (every row written through kpi.workflow.save_many, history "取込").
Times are wall-clock server time of one run each; peak memory is measured with tracemalloc in a
second, separate round (tracemalloc slows Python down, so it is never on while timing). Writes its
section "import" of docs/benchmark.md (portal_setup.write_section) and prints the figures.
"""

import io
import json
import os
import platform
import re
import resource
import sys
import time
import tracemalloc

from portal_setup import result_tables, start_django, write_section  # noqa: E402 (bench/ is the script's folder)

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "20000"))
YEAR = 2025
GOAL_SECONDS, GOAL_MB = 20, 500

start_django("ohnojo-import-bench-")

import openpyxl  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

SECTION = "## 実績の取込（bench/import_speed.py）"


def build():
    from django.contrib.auth.models import User

    from initiatives.models import Department, Initiative, Measure, Plan, Policy
    from initiatives.roles import Role, role_group, setup_roles
    from kpi.models import Kgi, KpiTarget, MeasureYear

    call_command("migrate", verbosity=0)
    setup_roles()
    plan = Plan.objects.create(
        code="bench-import",
        title="取込ベンチ計画",
        municipality="ベンチ市",
        vision="速さ",
        start_year=2022,
        end_year=YEAR,
    )
    policy = Policy.objects.create(plan=plan, number=1, numeral="Ⅰ", title="方針")
    initiatives = [Initiative.objects.create(policy=policy, number=n + 1, title=f"取組{n + 1}") for n in range(20)]
    departments = [Department.objects.create(code=f"d{n}", name=f"課{n}", is_sample=True) for n in range(25)]
    measures = Measure.objects.bulk_create(
        Measure(
            plan=plan,
            initiative=initiatives[i % 20],
            code=f"M-{i}",
            ordinal=i // 20 + 1,
            name=f"施策{i}",
            department=departments[i % 25],
        )
        for i in range(ROWS)
    )
    Kgi.objects.bulk_create(Kgi(measure=m, text="件数", indicator="件数", target=100, unit="件") for m in measures)
    KpiTarget.objects.bulk_create(
        KpiTarget(measure=m, fiscal_year=YEAR, value=10 + i % 90) for i, m in enumerate(measures)
    )
    MeasureYear.objects.bulk_create(
        MeasureYear(measure=m, fiscal_year=YEAR, kpi_actual=i % 50, actual_cost=900, work_done="実施")
        for i, m in enumerate(measures)
        if i % 2
    )
    user = User.objects.create_user("bench-dx")
    user.groups.add(role_group(Role.DX_OFFICE))
    return plan, user


def filled(content, round_number):
    """The downloaded workbook with every row's KPI実績, 決算額 and 実施内容 changed, as staff would."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb["実績入力"]
    headers = {cell.value: cell.column for cell in ws[1]}
    kpi, cost, work = headers["KPI実績"], headers["決算額（千円）"], headers["実施内容"]
    for row in range(2, ws.max_row + 1):
        ws.cell(row, kpi).value = (row + round_number) % 97
        ws.cell(row, cost).value = 1000 + row % 500 + round_number
        ws.cell(row, work).value = f"第{round_number}回の取込で入力"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main():
    from kpi.models import MeasureYear

    load = os.getloadavg()[0]  # other work on the machine slows every figure below
    started = time.perf_counter()
    plan, user = build()
    build_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    page = reverse("kpi:actuals", args=[plan.code, YEAR])
    download_url = reverse("kpi:actuals_download", args=[plan.code, YEAR])
    confirm_url = reverse("kpi:actuals_confirm", args=[plan.code, YEAR])

    def download():
        response = client.get(download_url, {"format": "xlsx"})
        assert response.status_code == 200
        return response.content

    def shown(response, pattern):
        """A figure of the preview page (outside the test runner there is no response.context)."""
        match = re.search(pattern, response.content.decode())
        return match.group(1) if match else None

    def preview(content):
        response = client.post(page, {"file": SimpleUploadedFile("実績.xlsx", content)})
        assert shown(response, r'id="issue-count">(\d+)<') == "0", response.content.decode()[:3000]
        assert shown(response, r'id="change-count">(\d+)<') == str(ROWS)
        return shown(response, r'name="token" value="([^"]+)"')

    def confirm(token):
        response = client.post(confirm_url, {"token": token})
        assert response.status_code == 302, response.status_code
        return response

    def traced(fn, *args):
        tracemalloc.start()
        try:
            result = fn(*args)
            return result, tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    def clock(fn, *args):
        started = time.perf_counter()
        result = fn(*args)
        return result, time.perf_counter() - started

    # Round 1, timed: download, unchanged round trip, preview and confirm of every row changed.
    original, download_seconds = clock(download)
    unchanged, round_trip_seconds = clock(client.post, page, {"file": SimpleUploadedFile("実績.xlsx", original)})
    assert shown(unchanged, r'id="change-count">(\d+)<') == "0"
    content = filled(original, 1)
    token, preview_seconds = clock(preview, content)
    _, confirm_seconds = clock(confirm, token)
    saved = MeasureYear.history.filter(history_change_reason="取込").count()
    assert saved == ROWS, saved

    # Round 2, traced: the same steps on the records as round 1 left them (new versions, new values).
    content = filled(download(), 2)
    token, preview_peak = traced(preview, content)
    _, confirm_peak = traced(confirm, token)
    assert MeasureYear.history.filter(history_change_reason="取込").count() == 2 * ROWS

    results = {
        "rows": ROWS,
        "database": connection.vendor,
        "load_average": round(load, 2),
        "build_seconds": round(build_seconds, 1),
        "workbook_mb": round(len(content) / 2**20, 2),
        "download_seconds": round(download_seconds, 2),
        "round_trip_preview_seconds": round(round_trip_seconds, 2),
        "preview_seconds": round(preview_seconds, 2),
        "confirm_seconds": round(confirm_seconds, 2),
        "preview_and_confirm_seconds": round(preview_seconds + confirm_seconds, 2),
        "preview_ms_per_row": round(preview_seconds / ROWS * 1000, 2),
        "confirm_ms_per_row": round(confirm_seconds / ROWS * 1000, 2),
        "preview_peak_mb": round(preview_peak, 1),
        "confirm_peak_mb": round(confirm_peak, 1),
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    checks = {
        f"preview + confirm, {ROWS:,} rows ≤ {GOAL_SECONDS} s": preview_seconds + confirm_seconds <= GOAL_SECONDS,
        f"peak memory (preview, confirm) ≤ {GOAL_MB} MB": max(preview_peak, confirm_peak) <= GOAL_MB,
    }
    write_report(results, checks)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    for name, ok in checks.items():
        print(f"{'OK ' if ok else 'NG '} {name}")
    return 0 if all(checks.values()) else 1


def write_report(results, checks):
    labels = {
        "build_seconds": "データ作成（秒）",
        "workbook_mb": "アップロードしたブック（MB）",
        "download_seconds": "全課のブックのダウンロード（秒）",
        "round_trip_preview_seconds": "参考：変更なしのブックの確認画面（秒）",
        "preview_seconds": "確認画面（全行が変更、秒）",
        "confirm_seconds": "取込の確定（全行を保存、秒）",
        "preview_and_confirm_seconds": f"確認＋確定（秒、目標 ≤ {GOAL_SECONDS}）",
        "preview_ms_per_row": "確認画面の1行あたり（ms）",
        "confirm_ms_per_row": "確定の1行あたり（ms）",
        "preview_peak_mb": f"確認画面のピークメモリ（tracemalloc、MB、目標 ≤ {GOAL_MB}）",
        "confirm_peak_mb": f"確定のピークメモリ（tracemalloc、MB、目標 ≤ {GOAL_MB}）",
        "process_max_rss_mb": "プロセスの最大RSS（MB、データ作成を含む）",
    }
    lines = [
        SECTION,
        "",
        f"`make bench` で bench/run.py の後に実行します。個別施策 {results['rows']:,} 件の1年度分"
        "（半数は実績入力済み）を一時DBに作り、DX推進部門として全課のブックをダウンロードし、"
        "openpyxl で全行の KPI実績・決算額・実施内容を書き換えてアップロード（確認画面）し、確定します。"
        "確定は kpi.workflow.save_many を通ります（権限・ロック・版・履歴「取込」、全行か無か）。"
        "時間は1回の実測（サーバー側、Django テストクライアント経由）、メモリは別の回に tracemalloc で測ります。",
        "",
        f"- 実行日: {time.strftime('%Y-%m-%d')}　Python {platform.python_version()}　DB: {results['database']}"
        f"　CPU: {os.cpu_count()} コア　開始時の負荷（1分平均）: {results['load_average']}",
        "",
        *result_tables([(label, results[key]) for key, label in labels.items()], checks),
        "",
        "確認画面は、ブックの読み込み（openpyxl の read-only、1セルずつ）と、変更のある行ごとの"
        " MeasureYearForm の検査です（変更のない行はフォームを作らずに飛ばします）。検査した変更はサーバーに保存され、"
        "確定はそれをもう一度検査せずに kpi.workflow.save_many に渡します。"
        "save_many は1行ずつ権限・ロック・版を確かめ、"
        "版の確保（UPDATE と SELECT）と履歴の INSERT を500行ずつ1文で、値の UPDATE を1つの文の executemany で行います"
        "（1行ずつ save() すると1行3文、Django の bulk_update は1行約1msの CASE 式を作るため使いません）。",
        "",
    ]
    write_section("import", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
