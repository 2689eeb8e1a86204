from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    """The top layer: what spans the apps (the plan-file loader, the measure page, the admin's
    measure editor, the demo), above initiatives ← kpi ← budget (see the import-linter contract)."""

    name = "ohnojo_dx"
    verbose_name = "計画進捗ポータル"


class PortalAdminConfig(AdminConfig):
    default_site = "ohnojo_dx.admin_site.PortalAdminSite"
