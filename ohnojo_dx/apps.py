from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    """The top layer: what spans the apps (the plan-file loader, the measure page, the admin's
    measure editor, the demo), above initiatives ← kpi ← budget (see the import-linter contract)."""

    name = "ohnojo_dx"
    verbose_name = "計画進捗ポータル"

    def ready(self):
        from django.apps import apps

        from initiatives.permissions import register_admin_perms

        # API tokens (rest_framework.authtoken) are issued and revoked by the DX推進部門 in the admin.
        register_admin_perms(apps.get_app_config("authtoken"))


class PortalAdminConfig(AdminConfig):
    default_site = "ohnojo_dx.admin_site.PortalAdminSite"
