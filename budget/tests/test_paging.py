"""Whole-plan pages a page of measures at a time: the rows of all pages are the full report's, the totals
and flag counts are the whole filter's (the workbook's), and a large plan renders one page of rows."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from budget.chain import FLAGS, chain_of
from budget.final import final_report
from budget.models import BudgetFigure, PlannedCost
from budget.paging import PER_PAGE
from budget.reports import hearing_report
from budget.revised import revised_report
from conftest import grow_plan
from initiatives.models import Measure, PlanRevision, RevisionChange
from kpi.models import KpiTarget, MeasureYear
from tests import workbooks

pytestmark = pytest.mark.django_db

YEAR = 2025
SHEETS = {"hearing": "予算ヒアリング", "final": "計画期間の総括", "revised": "当初・見直し後・実績"}


@pytest.fixture
def grown(plan, department):
    """The plan with 100 more measures (130: three pages), a department on two thirds of them, mixed money."""
    grown = grow_plan(plan, 100, YEAR)
    for i, measure in enumerate(Measure.objects.filter(plan=plan).order_by("pk")):
        if i % 3:
            measure.department = department
            measure.save()
    # some 決算 over the 査定, some money without a KPI result, some requests where the LCC is "－"
    MeasureYear.objects.filter(measure__in=grown[::4]).update(actual_cost=5000)
    MeasureYear.objects.filter(measure__in=grown[1::5]).update(kpi_actual=None)
    MeasureYear.objects.filter(measure__in=grown[1::10]).update(kpi_actual_text="実施")  # recorded as text
    KpiTarget.objects.filter(measure__in=grown[6::15]).update(value=None, text="導入")  # a target in words
    KpiTarget.objects.filter(measure__in=grown[11::15]).update(value=None)  # "－": no target, no flag
    PlannedCost.objects.filter(measure__in=grown[2::6]).update(amount=None)
    BudgetFigure.objects.filter(measure__in=grown[3::7], stage="request").update(amount=1)
    revision = PlanRevision.objects.create(plan=plan, number=1, decided_on="2024-11-20", decided_by="会議", reason="r")
    for measure in grown[3:6]:  # the LCC as adopted differs from the revised one
        RevisionChange.objects.create(
            revision=revision,
            measure=measure,
            fiscal_year=YEAR,
            kind=RevisionChange.Kind.PLANNED_COST,
            before={"amount": 700, "note": ""},
            after={"amount": 100, "note": ""},
        )
    return plan


def report_url(plan, kind, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("budget:report", args=[plan.code, kind]) + (f"?{query}" if query else "")


def all_pages(client, url):
    """Every page's response, following the 「次へ」 links (the filter must ride along)."""
    responses = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        responses.append(response)
        found = re.search(r'href="([^"]*)" rel="next"', response.content.decode())
        url = found and urlsplit(url).path + found.group(1).replace("&amp;", "&")
    return responses


FULL = {
    "hearing": lambda plan, department: hearing_report(plan, year=YEAR, department=department),
    "final": lambda plan, department: final_report(plan),
    "revised": lambda plan, department: revised_report(plan),
}
PARAMS = {"hearing": lambda department: {"year": YEAR, "department": department.code}, "final": None, "revised": None}


@pytest.mark.parametrize("kind", ["hearing", "final", "revised"])
def test_report_pages_together_are_the_full_report(client, viewer, grown, department, kind):
    client.force_login(viewer)
    params = PARAMS[kind](department) if PARAMS[kind] else {}
    department_filter = department if params else None
    responses = all_pages(client, report_url(grown, kind, **params))
    full = list(FULL[kind](grown, department_filter).rows)
    measures = Measure.objects.filter(plan=grown)
    count = measures.filter(department=department).count() if params else measures.count()
    assert len(responses) == -(-count // PER_PAGE) > 1
    assert [row for r in responses for row in r.context["rows"]] == full
    for number, response in enumerate(responses, start=1):
        assert f"{number} / {len(responses)} ページ" in response.content.decode()
        assert f"全 {count} 件" in response.content.decode()
        # each page's 計 is the whole filter's
        assert response.context["totals"] == responses[0].context["totals"]


@pytest.mark.parametrize("kind", ["hearing", "final", "revised"])
def test_a_later_page_shows_the_workbook_totals(client, viewer, grown, department, kind):
    client.force_login(viewer)
    params = PARAMS[kind](department) if PARAMS[kind] else {}
    page = client.get(report_url(grown, kind, page=2, **params))
    assert page.context["page_obj"].number == 2
    book = workbooks.load(client.get(report_url(grown, kind, format="xlsx", **params)).content)
    ws = book[SHEETS[kind]]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "施策コード")
    total = next(r for r in range(header, ws.max_row + 1) if ws.cell(r, 1).value == "計")
    columns = page.context["report"].columns
    summed = [i for i, column in enumerate(columns) if column.summed]
    assert summed
    for i in summed:
        cells = [ws.cell(r, i + 1).value for r in range(header + 1, total)]
        expected = sum(v for v in cells if isinstance(v, int | float))
        assert page.context["totals"][i] == f"{expected:,}", columns[i]
    if kind == "revised":  # the adopted LCC counts the revisions' "before": 3 × (700 − 100) more
        adopted, revised = (page.context["totals"][i] for i in summed[:2])
        assert int(adopted.replace(",", "")) == int(revised.replace(",", "")) + 1800


def chain_url(plan, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("budget:chain", args=[plan.code, YEAR]) + (f"?{query}" if query else "")


@pytest.mark.parametrize("flagged", [False, True])
def test_money_chain_pages_totals_and_flag_counts_are_the_whole_filter(client, dx_user, grown, department, flagged):
    """The page counts and adds up in SQL; the chain's own Python reading (ChainYear) must agree."""
    measures = list(
        Measure.objects.filter(plan=grown, department=department).order_by(
            "initiative__policy__number", "initiative__number", "ordinal"
        )
    )
    chain = chain_of(Measure.objects.filter(pk__in=[m.pk for m in measures]), [YEAR])
    chains = {m.pk: chain(m.pk, YEAR) for m in measures}
    if flagged:
        measures = [m for m in measures if chains[m.pk].flags]
    expected_counts = {flag.code: sum(flag in chains[m.pk].flags for m in measures) for flag in FLAGS}
    assert all(expected_counts.values())  # the data has every flag
    expected_totals = [sum(chains[m.pk].amounts[i] or 0 for m in measures) for i in range(5)]

    client.force_login(dx_user)
    params = {"department": department.code} | ({"flagged": "on"} if flagged else {})
    responses = all_pages(client, chain_url(grown, **params))
    assert [m.code for r in responses for m, _, _ in r.context["rows"]] == [m.code for m in measures]
    assert len(responses) == -(-len(measures) // PER_PAGE)
    for response in responses:
        assert response.context["totals"] == expected_totals
        assert {flag.code: n for flag, n in response.context["flag_counts_pairs"]} == expected_counts
        for measure, year_chain, _ in response.context["rows"]:
            assert year_chain.flags == chains[measure.pk].flags


def test_pager_links_keep_the_filter(client, viewer, grown, department):
    client.force_login(viewer)
    html = client.get(report_url(grown, "final", page=2)).content.decode()
    links = dict(re.findall(r'href="\?([^"]*)" rel="(prev|next)"', html)[i][::-1] for i in range(2))
    assert parse_qs(links["prev"].replace("&amp;", "&")) == {"page": ["1"]}
    assert parse_qs(links["next"].replace("&amp;", "&")) == {"page": ["3"]}
    html = client.get(report_url(grown, "hearing", year=YEAR, department=department.code)).content.decode()
    next_link = re.search(r'href="\?([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert parse_qs(next_link) == {"year": [str(YEAR)], "department": [department.code], "page": ["2"]}
    assert "前へ" not in html  # the first page has no previous one
    # the downloads keep every row: no page in their links
    page2 = client.get(report_url(grown, "final", page=2)).content.decode()
    download = re.search(r'href="\?([^"]*)">Excel', page2).group(1).replace("&amp;", "&")
    assert parse_qs(download) == {"format": ["xlsx"]}


@pytest.mark.parametrize("page, shown", [("abc", 1), ("0", 3), ("-2", 3), ("99", 3), ("3", 3), ("", 1)])
def test_a_page_number_out_of_range_shows_a_page(client, viewer, grown, page, shown):
    client.force_login(viewer)
    for url in (report_url(grown, "final", page=page), chain_url(grown, page=page)):
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["page_obj"].number == shown


def table_rows(html):
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr")


def test_a_large_plan_renders_one_page_of_rows(client, dx_user, plan):
    grow_plan(plan, 2970, YEAR)
    client.force_login(dx_user)
    for url in (
        report_url(plan, "hearing"),
        report_url(plan, "final", page=7),
        report_url(plan, "revised", page=60),
    ):
        html = client.get(url).content.decode()
        years = 1 if "revised" not in url else len(plan.fiscal_years)  # the revised report: a row per year
        assert table_rows(html) == PER_PAGE * years, url
        assert "全 3000 件" in html
    html = client.get(chain_url(plan, page=2)).content.decode()
    assert table_rows(html) == PER_PAGE and html.count('<tr id="m-') == PER_PAGE
    assert "2 / 60 ページ" in html
    PlanRevision.objects.create(plan=plan, number=1, decided_on="2024-11-20", decided_by="会議", reason="理由")
    html = client.get(reverse("budget:revisions", args=[plan.code])).content.decode()
    assert html.count("/revisions/1/measures/") == PER_PAGE and "1 / 60 ページ" in html


def test_a_saved_figure_returns_to_the_chain_page_that_shows_its_measure(client, dx_user, grown):
    client.force_login(dx_user)
    pages = all_pages(client, chain_url(grown))
    measure = Measure.objects.filter(plan=grown).exclude(code__startswith="X-").order_by("-pk").first()
    shown_on = next(n for n, r in enumerate(pages, start=1) if measure in [m for m, _, _ in r.context["rows"]])
    assert shown_on > 1
    url = reverse("budget:figure_edit", args=[grown.code, measure.code, YEAR, "implementation"])
    response = client.post(url, {"seen_version": 0, "amount": "10"})
    assert response.status_code == 302
    assert response["Location"] == f"{chain_url(grown, page=shown_on)}#m-{measure.code}"
    assert f'id="m-{measure.code}"' in client.get(response["Location"]).content.decode()
