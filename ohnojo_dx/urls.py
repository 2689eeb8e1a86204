from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from initiatives import views as initiative_views
from initiatives.middleware import role_not_required
from kpi import views as kpi_views

from . import views

urlpatterns = [
    path("", kpi_views.dashboard, name="home"),
    path("healthz", initiative_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", role_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("initiatives.urls")),
    path("plans/<slug:plan_code>/measures/<slug:code>/", views.measure_detail, name="measure_detail"),
    path("", include("kpi.urls")),
    path("", include("budget.urls")),
]
