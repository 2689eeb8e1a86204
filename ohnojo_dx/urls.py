from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from initiatives import views as initiative_views
from initiatives.middleware import role_not_required

from . import errors, views, views_plan_import

handler500 = errors.server_error  # 503 while the database is unreachable (ohnojo_dx/errors.py)

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("healthz", initiative_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", role_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("ohnojo_dx.api.urls")),
    path("", include("initiatives.urls")),
    path("plans/<slug:plan_code>/measures/<slug:code>/", views.measure_detail, name="measure_detail"),
    path("plans/<slug:plan_code>/plan.xlsx", views_plan_import.plan_workbook, name="plan_workbook"),
    path("plans/<slug:plan_code>/plan.json", views_plan_import.plan_file, name="plan_file"),
    path("plan-import/", views_plan_import.plan_import, name="plan_import"),
    path("plan-import/confirm/", views_plan_import.plan_import_confirm, name="plan_import_confirm"),
    path("plan-import/template.xlsx", views_plan_import.plan_workbook_template, name="plan_workbook_template"),
    path("", include("kpi.urls")),
    path("", include("budget.urls")),
]
