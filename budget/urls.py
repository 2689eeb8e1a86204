from django.urls import path

from . import views, views_final, views_hearing, views_revision

app_name = "budget"
urlpatterns = [
    path("plans/<slug:plan_code>/budget/", views.budget_table, name="budget_table"),
    path("plans/<slug:plan_code>/budget.xlsx", views.budget_table_xlsx, name="budget_table_xlsx"),
    path("plans/<slug:plan_code>/reports/", views.reports, name="reports"),
    path("plans/<slug:plan_code>/reports/<slug:kind>/", views.report, name="report"),
    path("plans/<slug:plan_code>/exports/<uuid:token>/", views.export_job, name="export_job"),
    path("plans/<slug:plan_code>/exports/<uuid:token>/download/", views.export_download, name="export_download"),
    path("plans/<slug:plan_code>/years/<int:year>/budget-chain/", views.money_chain, name="chain"),
    path("plans/<slug:plan_code>/years/<int:year>/hearings/", views_hearing.hearings, name="hearings"),
    path(
        "plans/<slug:plan_code>/years/<int:year>/hearings/<slug:department_code>/",
        views_hearing.hearing_sheets,
        name="hearing_sheets",
    ),
    path(
        "plans/<slug:plan_code>/years/<int:year>/hearings/<slug:department_code>/edit/",
        views_hearing.hearing_edit,
        name="hearing_edit",
    ),
    path("plans/<slug:plan_code>/measures/<slug:code>/final/", views_final.final_edit, name="final_edit"),
    path("plans/<slug:plan_code>/next-plan/", views_final.next_plan, name="next_plan"),
    path("plans/<slug:plan_code>/revisions/", views_revision.revisions, name="revisions"),
    path(
        "plans/<slug:plan_code>/revisions/<int:number>/measures/<slug:code>/",
        views_revision.revise_measure,
        name="revise_measure",
    ),
    path(
        "plans/<slug:plan_code>/measures/<slug:code>/years/<int:year>/hearing/",
        views_hearing.decision_edit,
        name="decision_edit",
    ),
    path(
        "plans/<slug:plan_code>/measures/<slug:code>/years/<int:year>/budget/<slug:stage>/",
        views.figure_edit,
        name="figure_edit",
    ),
]
