"""/api/: stable codes in every URL (the plan's code, the measure's code, the fiscal year), never database ids.

The endpoints are marked ``login_not_required``: a token request carries no session, so Django's login and
role middleware would take it for anonymous; DRF authenticates it inside the view and the views' own
permission classes answer 401/403 as JSON (DRF 3.18 marks its views so too; ``api()`` says it where the
URLs are). The docs page is a page like any other: login, then a role.
The routes have no names: the pages' route tests (initiatives/tests/test_pages.py) list pages, and the
API's own tests cover these URLs.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path

from . import views

measure_year = "plans/<slug:plan_code>/measures/<slug:measure_code>/years/<int:year>/"


def api(route, view):
    return path(route, login_not_required(view.as_view()))


urlpatterns = [
    api("schema/", views.Schema),
    path("docs/", views.docs_page()),
    api("plans/", views.PlanList),
    api("plans/<slug:plan_code>/", views.PlanDetail),
    api("plans/<slug:plan_code>/policies/", views.PolicyList),
    api("plans/<slug:plan_code>/initiatives/", views.InitiativeList),
    api("plans/<slug:plan_code>/measures/", views.MeasureList),
    api("plans/<slug:plan_code>/measures/<slug:measure_code>/", views.MeasureDetail),
    api("plans/<slug:plan_code>/measures/<slug:measure_code>/years/", views.MeasureYearList),
    api(measure_year, views.MeasureYearDetail),
    api(measure_year + "submit/", views.Submit),
    api(measure_year + "approve/", views.Approve),
    api(measure_year + "return/", views.Return),
    api(measure_year + "reopen/", views.Reopen),
    api("plans/<slug:plan_code>/records/", views.RecordList),
    api("plans/<slug:plan_code>/budget/", views.BudgetTable),
    api("plans/<slug:plan_code>/hearing/", views.Hearing),
    re_path(r"^", login_not_required(views.NoSuchEndpoint.as_view())),
]
