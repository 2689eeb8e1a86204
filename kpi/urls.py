from django.urls import path

from . import views, views_interim, views_public, views_transfer

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
    path(plan_year + "actuals/", views_transfer.actuals, name="actuals"),
    path(plan_year + "actuals/download/", views_transfer.actuals_download, name="actuals_download"),
    path(plan_year + "actuals/confirm/", views_transfer.actuals_confirm, name="actuals_confirm"),
    path(measure_year + "interim/", views_interim.interim_edit, name="interim_edit"),
    path(measure_year + "interim/<str:step>/", views_interim.interim_step, name="interim_step"),
    path(plan_year + "interim/", views_interim.interim_summary, name="interim_summary"),
    path(plan_year + "publish/", views_public.publish, name="publish"),
    path(plan_year + "external-reviews/", views_public.external_reviews, name="external_reviews"),
    # The public side, no login (kpi.publishing decides what it shows)
    path("open/", views_public.public_index, name="public_index"),
    path("open/schema.json", views_public.open_data_schema, name="open_data_schema"),
    path("open/<slug:plan_code>/<int:year>/", views_public.public_year, name="public_year"),
    path("open/<slug:plan_code>/<int:year>/results.csv", views_public.public_csv, name="public_csv"),
    path("open/<slug:plan_code>/<int:year>/results.json", views_public.public_json, name="public_json"),
    path("open/<slug:plan_code>/<int:year>/h1/", views_public.public_year, {"period": "H1"}, name="public_half"),
    path(
        "open/<slug:plan_code>/<int:year>/h1/results.csv",
        views_public.public_csv,
        {"period": "H1"},
        name="public_half_csv",
    ),
    path(
        "open/<slug:plan_code>/<int:year>/h1/results.json",
        views_public.public_json,
        {"period": "H1"},
        name="public_half_json",
    ),
]
