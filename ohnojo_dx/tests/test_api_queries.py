"""Every API endpoint's queries, pinned at two plan sizes: the 30-measure plan and the same plan grown to
3,000 measures (each with a KGI, a target, a planned cost and a record in R7). Lists are paginated, so a page
costs the same whatever the plan's size.
"""

import pytest
from django.urls import resolve

from conftest import grow_plan
from initiatives.models import Measure
from kpi.models import MeasureYear
from ohnojo_dx.tests.api_helpers import YEAR, fast_passwords, plan_url, token_for, year_url  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

SIGNED_IN = 2  # the token with its user, the user's roles


def endpoints(plan, measure):
    """(endpoint, URL, queries after signing in, what they are)."""
    return [
        ("plans", "/api/plans/", 3, "count, the page of plans, their national 重点取組事項"),
        ("plan", plan_url(plan), 2, "plan, its national 重点取組事項"),
        ("policies", plan_url(plan, "policies"), 4, "plan, count, the page of policies, their initiatives"),
        ("initiatives", plan_url(plan, "initiatives"), 3, "plan, count, the page of initiatives with their policy"),
        (
            "measures",
            plan_url(plan, "measures"),
            7,
            "plan, count, the page of measures (with initiative, policy, department, KGI), their national "
            "重点取組事項, schedule bars, KPI targets, planned costs",
        ),
        (
            "measures filtered",
            plan_url(plan, "measures") + "?department=test-dept&policy=1",
            7,
            "the same, filtered in SQL",
        ),
        (
            "measure",
            plan_url(plan, "measures", measure.code),
            6,
            "plan, the measure (with initiative, policy, department, KGI), its national 重点取組事項, schedule "
            "bars, KPI targets, planned costs",
        ),
        (
            "measure's years",
            plan_url(plan, "measures", measure.code, "years"),
            5,
            "measure (with plan, initiative, policy, KGI, department), its KPI targets, planned costs, records, "
            "the plan's grade thresholds",
        ),
        ("measure-year", year_url(measure), 5, "the same for one year"),
        (
            "records",
            plan_url(plan, "records"),
            4,
            "plan, count, the page of records (with measure and KGI, the year's target and planned cost as "
            "subqueries), the plan's grade thresholds",
        ),
        (
            "records filtered",
            plan_url(plan, "records") + f"?fiscal_year={YEAR}&status=submitted",
            4,
            "the same, filtered in SQL",
        ),
        (
            "budget",
            plan_url(plan, "budget"),
            5,
            "plan, policies, planned costs per policy and year, the revisions' first LCC changes, 一般財源 likewise",
        ),
        (
            "hearing, one year",
            plan_url(plan, "hearing") + f"?year={YEAR}",
            6,
            "plan, count, the page's measure ids, grade thresholds, delayed schedule bars, the measures with "
            "the year's target, cost and record joined",
        ),
        ("hearing, every year", plan_url(plan, "hearing"), 9, "the same, with one joined query per plan year (4)"),
    ]


def test_every_endpoint_is_listed(plan):
    """A new endpoint must be pinned here: every route that answers GET with data has a row above."""
    from ohnojo_dx.api.urls import urlpatterns

    measure = Measure.objects.get(plan=plan, code="I-3-3")
    pinned = {resolve(url.split("?")[0]).route for _, url, _, _ in endpoints(plan, measure)}
    routes = {f"api/{p.pattern}" for p in urlpatterns} - {"api/schema/", "api/docs/", "api/^"}
    steps = {r for r in routes if r.endswith(("/submit/", "/approve/", "/return/", "/reopen/"))}
    assert len(steps) == 4
    assert pinned == routes - steps


def test_queries_do_not_grow_with_the_plan(client, plan, department, dx_user, django_assert_num_queries):
    measure = Measure.objects.get(plan=plan, code="I-3-3")
    measure.department = department
    measure.save()
    MeasureYear.objects.create(measure=measure, fiscal_year=YEAR, kpi_actual=1, status="submitted")
    headers = token_for(dx_user)
    rows = endpoints(plan, measure)
    for size in (30, 3000):
        if size == 3000:
            grow_plan(plan, 2970, YEAR)
            assert Measure.objects.filter(plan=plan).count() == 3000
            Measure.objects.filter(plan=plan, code__startswith="X-").update(department=department)
        for name, url, queries, _what in rows:
            with django_assert_num_queries(SIGNED_IN + queries):
                response = client.get(url, **headers)
            assert response.status_code == 200, (name, size)
    grown = client.get(plan_url(plan, "hearing") + f"?year={YEAR}", **headers).json()
    assert (grown["count"], len(grown["results"])) == (3000, 100)  # a page of a plan this size
    largest = client.get(plan_url(plan, "measures") + "?page_size=5000", **headers).json()
    assert len(largest["results"]) == 1000  # the most a page holds
