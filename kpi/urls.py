from django.urls import path

from . import views

app_name = "kpi"
measure_year = "plans/<slug:plan_code>/measures/<slug:code>/years/<int:year>/"
plan_year = "plans/<slug:plan_code>/years/<int:year>/"
urlpatterns = [
    path("measures/", views.measure_list, name="measure_list"),
    path(measure_year + "edit/", views.measure_year_edit, name="measure_year_edit"),
    path(measure_year + "approve/", views.approve, name="approve"),
    path(measure_year + "return/", views.return_for_revision, name="return"),
    path(measure_year + "reopen/", views.reopen, name="reopen"),
    path(plan_year + "pdca/", views.pdca, name="pdca"),
    path(plan_year + "approve/", views.bulk_approve, name="bulk_approve"),
    path(plan_year + "departments/<slug:department_code>/", views.department_grid, name="department_grid"),
]
