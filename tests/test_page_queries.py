"""Every page's queries, pinned at two plan sizes: the 30-measure plan and the same plan grown to 3,000.

The dashboard, the measure list, the reports and the department grid have their own tests
(kpi/tests/test_dashboard.py, budget/tests/test_reports.py, kpi/tests/test_grid.py).
"""

import pytest
from django.urls import reverse

from budget.models import ExportJob
from conftest import grow_plan
from initiatives.models import Measure, PlanRevision
from kpi.models import MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025
SIGNED_IN = 3  # session, user, the user's roles


def pages(plan, measure, job):
    """(page, URL, queries after signing in, what they are)."""
    return [
        ("plan list", reverse("initiatives:plan_list"), 1, "plans with their counts"),
        (
            "plan tree",
            reverse("initiatives:plan_detail", args=[plan.code]),
            8,
            "plan, policies, initiatives (with their measure counts), the first measures of each (with KGI and "
            "department), their national 重点取組事項, the 重点取組事項 each initiative's measures serve; the plan's "
            "national 重点取組事項 (with their measure counts) and the first measures of each",
        ),
        (
            "measure page",
            measure.get_absolute_url(),
            23,
            "measure (with plan, initiative, policy, KGI, department, final evaluation), revision changes (with "
            "their revision), other indicators (and their yearly rows where it has any), schedule bars, national "
            "重点取組事項, KPI targets, planned costs, records, their bar statuses, grade thresholds, hearing "
            "decisions; history of records, KPI targets, planned costs, budget figures, hearing decisions, "
            "final evaluation, KGI and bar statuses; the money chain's planned costs, KPI targets, budget "
            "figures and records",
        ),
        (
            "entry form",
            reverse("kpi:measure_year_edit", args=[plan.code, measure.code, YEAR]),
            7,
            "measure (with plan, initiative, policy, KGI, department), schedule bars, the record with its "
            "bar statuses, the year's KPI target, the measure's other indicators (and their rows of the year, "
            "where it has any), last year's record",
        ),
        (
            "PDCA page",
            reverse("kpi:pdca", args=[plan.code, YEAR]),
            8,
            "plan, grade thresholds, the roll-up counted per initiative, departments; the submitted records' "
            "count and page, and their facts (delayed bars, the joined rows)",
        ),
        (
            "図表2-4-1",
            reverse("budget:budget_table", args=[plan.code]),
            8,
            "plan, policies, planned costs per policy and year, the revisions' first LCC changes (the plan as "
            "adopted), 一般財源 per policy and year; for the stage "
            "tables: policies, budget figures per policy, year and stage, records per policy and year",
        ),
        (
            "図表2-4-1 workbook",
            reverse("budget:budget_table_xlsx", args=[plan.code]),
            6,
            "plan, policies, planned costs per policy and year, the revisions' first LCC changes, 一般財源 per "
            "policy and year; the noted LCC cells with their measures' footnotes for the 注記 column "
            "(budget.selectors.cost_notes)",
        ),
        ("report list", reverse("budget:reports", args=[plan.code]), 1, "plan"),
        (
            "money chain",
            reverse("budget:chain", args=[plan.code, YEAR]),
            9,
            "plan, departments of the filter, the filter's count, chain totals and flag counts (one aggregate), "
            "the page's measure ids, those measures (with department, initiative, policy), the chain's planned "
            "costs, KPI targets, budget figures and records for them",
        ),
        (
            "budget figure form",
            reverse("budget:figure_edit", args=[plan.code, measure.code, YEAR, "request"]),
            8,
            "plan, measure (with department, KGI), the stored figure, the chain's planned costs, KPI targets, "
            "budget figures and records, the year's lock",
        ),
        (
            "hearings",
            reverse("budget:hearings", args=[plan.code, YEAR]),
            4,
            "plan, departments with their measure counts, decisions per department, the year's hearings",
        ),
        (
            "hearing sheets",
            reverse("budget:hearing_sheets", args=[plan.code, YEAR, measure.department.code]),
            14,
            "plan, department, measures (with department, initiative, policy, KGI), their schedule bars; "
            "the KPI facts (grade thresholds, delayed bars, one joined query for each of the 4 plan years); the "
            "money chain's budget figures (the rest of the chain from the facts); the year's schedule progress, "
            "its decisions; the year's hearings",
        ),
        (
            "hearing date form",
            reverse("budget:hearing_edit", args=[plan.code, YEAR, measure.department.code]),
            3,
            "plan, department, the year's hearings",
        ),
        (
            "hearing decision form",
            reverse("budget:decision_edit", args=[plan.code, measure.code, YEAR]),
            14,
            "plan, measure, its decision; the measure's 事業シート (as the hearing sheets page, for one measure)",
        ),
        (
            "next plan form",
            reverse("budget:next_plan", args=[plan.code]),
            2,
            "plan, its measures counted by carry-over (計画期間の総括)",
        ),
        (
            "final evaluation form",
            reverse("budget:final_edit", args=[plan.code, measure.code]),
            9,
            "plan, measure, its evaluation; the 総括 row: the measure with KGI, department, initiative and "
            "policy, its records, planned costs, noted KPI targets, evaluation, the plan's grade thresholds",
        ),
        (
            "revisions",
            reverse("budget:revisions", args=[plan.code]),
            4,
            "plan, revisions with their change counts, the pager's count of measures, the page's measures",
        ),
        (
            "export job page",
            reverse("budget:export_job", args=[plan.code, job.token]),
            2,
            "plan, the job (without its file)",
        ),
        (
            "export download",
            reverse("budget:export_download", args=[plan.code, job.token]),
            2,
            "plan, the job with its file",
        ),
        (
            "publish form",
            reverse("kpi:publish", args=[plan.code, YEAR]),
            4,
            "plan, the publication, the 改善方針 it may name, the measures counted (all and approved)",
        ),
        (
            "external reviews",
            reverse("kpi:external_reviews", args=[plan.code, YEAR]),
            2,
            "plan, the year's reviews with their measures",
        ),
        (
            "revision form",
            reverse("budget:revise_measure", args=[plan.code, 1, measure.code]),
            5,
            "plan, revision, measure (with KGI), its KPI targets, its planned costs",
        ),
    ]


PAGES = [
    "plan list",
    "plan tree",
    "measure page",
    "entry form",
    "PDCA page",
    "図表2-4-1",
    "図表2-4-1 workbook",
    "report list",
    "money chain",
    "budget figure form",
    "hearings",
    "hearing sheets",
    "hearing date form",
    "hearing decision form",
    "final evaluation form",
    "next plan form",
    "revisions",
    "revision form",
    "publish form",
    "external reviews",
    "export job page",
    "export download",
]


def test_every_page_is_listed():
    """A new page must be added here (or to its own pinned test)."""
    from initiatives.tests.test_pages import ALL_ROUTES

    pinned_elsewhere = {"home", "kpi:measure_list", "budget:report", "kpi:department_grid"}
    pinned_elsewhere |= {"kpi:actuals", "kpi:actuals_download"}  # kpi/tests/test_actuals_workbook.py
    pinned_elsewhere |= {"plan_workbook", "plan_file", "plan_workbook_template", "plan_import"}  # test_plan_workbook
    here = {"initiatives:plan_list", "initiatives:plan_detail", "measure_detail", "kpi:measure_year_edit"}
    here |= {"kpi:pdca", "budget:budget_table", "budget:budget_table_xlsx", "budget:reports"}
    here |= {"budget:chain", "budget:figure_edit", "budget:hearings", "budget:hearing_sheets"}
    here |= {"budget:hearing_edit", "budget:decision_edit", "budget:final_edit", "budget:next_plan"}
    here |= {"budget:revisions", "budget:revise_measure"}
    here |= {"budget:export_job", "budget:export_download", "kpi:publish", "kpi:external_reviews"}
    here |= {"kpi:public_index", "kpi:public_year", "kpi:public_csv", "kpi:public_json", "kpi:open_data_schema"}
    # a plan reviewed every half year: kpi/tests/test_interim.py
    pinned_elsewhere |= {"kpi:interim_edit", "kpi:interim_summary", "kpi:public_half"}
    pinned_elsewhere |= {"kpi:public_half_csv", "kpi:public_half_json"}
    not_pages = {"login", "logout", "healthz", "kpi:approve", "kpi:return", "kpi:reopen", "kpi:bulk_approve"}
    not_pages |= {"kpi:actuals_confirm", "plan_import_confirm", "kpi:interim_step"}
    assert ALL_ROUTES == pinned_elsewhere | here | not_pages


@pytest.mark.parametrize("page", PAGES)
def test_page_queries_do_not_grow_with_the_plan(client, dx_user, plan, department, page, django_assert_num_queries):
    measure = Measure.objects.get(plan=plan, name="デジタル・デバイド対策")
    measure.department = department
    measure.save()
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    PlanRevision.objects.create(plan=plan, number=1, decided_on="2024-11-20", decided_by="会議", reason="理由")
    job = ExportJob.objects.create(
        plan=plan, kind="hearing", output="xlsx", requested_by=dx_user, status="done", content=b"PK", filename="a.xlsx"
    )  # a background download (budget.exports), done
    name, url, queries, _what = next(p for p in pages(plan, measure, job) if p[0] == page)
    client.force_login(dx_user)
    with django_assert_num_queries(SIGNED_IN + queries):
        assert client.get(url).status_code == 200, name
    grow_plan(plan, 2970, YEAR)
    with django_assert_num_queries(SIGNED_IN + queries):
        assert client.get(url).status_code == 200, name


def public_pages(plan):
    """(page, URL, queries for an anonymous visitor, what they are) of the public side."""
    year_queries = (
        "the publication with its plan, thresholds, the named 改善方針, delayed bars, the joined rows, the other "
        "indicators' rows"
    )
    return [
        ("public index", reverse("kpi:public_index"), 1, "the publications with their plans"),
        (
            "public year",
            reverse("kpi:public_year", args=[plan.code, YEAR]),
            8,
            f"{year_queries}; the plan's published years, its public 外部評価",
        ),
        ("public CSV", reverse("kpi:public_csv", args=[plan.code, YEAR]), 6, year_queries),
        ("public JSON", reverse("kpi:public_json", args=[plan.code, YEAR]), 6, year_queries),
        ("open data schema", reverse("kpi:open_data_schema"), 0, "none: a file"),
    ]


@pytest.mark.parametrize("page", ["public index", "public year", "public CSV", "public JSON", "open data schema"])
def test_public_page_queries_do_not_grow_with_the_plan(client, dx_user, plan, page, django_assert_num_queries):
    """The public side, for a visitor who is not signed in, with every measure's record approved."""
    from kpi.publishing import publish

    grow_plan(plan, 0, YEAR)
    MeasureYear.objects.filter(measure__plan=plan, fiscal_year=YEAR).update(status="approved")
    publish(plan, YEAR, dx_user, 0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja", [])
    name, url, queries, _what = next(p for p in public_pages(plan) if p[0] == page)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200, name
    MeasureYear.objects.filter(measure__plan=plan, fiscal_year=YEAR).update(status="draft")
    grow_plan(plan, 2970, YEAR)
    MeasureYear.objects.filter(measure__plan=plan, fiscal_year=YEAR).update(status="approved")
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200, name
