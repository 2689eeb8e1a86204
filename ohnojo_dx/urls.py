from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from initiatives import views as initiative_views
from kpi import views as kpi_views

admin.site.site_header = "計画進捗ポータル 管理"
admin.site.site_title = "計画進捗ポータル"
admin.site.index_title = "計画データの管理"

urlpatterns = [
    path("", kpi_views.dashboard, name="home"),
    path("healthz", initiative_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("initiatives.urls")),
    path("", include("kpi.urls")),
    path("", include("budget.urls")),
]
