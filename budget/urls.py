from django.urls import path

from . import views

app_name = "budget"
urlpatterns = [
    path("plans/<slug:plan_code>/budget/", views.budget_table, name="budget_table"),
    path("plans/<slug:plan_code>/budget.xlsx", views.budget_table_xlsx, name="budget_table_xlsx"),
    path("plans/<slug:plan_code>/reports/", views.reports, name="reports"),
    path("plans/<slug:plan_code>/reports/<slug:kind>/", views.report, name="report"),
    path("plans/<slug:plan_code>/years/<int:year>/budget-chain/", views.money_chain, name="chain"),
    path(
        "plans/<slug:plan_code>/measures/<slug:code>/years/<int:year>/budget/<slug:stage>/",
        views.figure_edit,
        name="figure_edit",
    ),
]
