from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from initiatives.permissions import ADMIN


class RoleAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in asks the role, not the staff flag."""

    def confirm_login_allowed(self, user):
        if not (user.is_active and user.has_perm(ADMIN)):
            raise ValidationError("管理画面はDX推進部門のアカウントだけが使えます。", code="invalid_login")


class PortalAdminSite(admin.AdminSite):
    """The admin admits the DX推進部門 (and superusers): staff status follows the role, so an
    account given ``is_staff`` by mistake sees nothing here."""

    site_header = "計画進捗ポータル 管理"
    site_title = "計画進捗ポータル"
    index_title = "計画データの管理"
    login_form = RoleAuthenticationForm

    def has_permission(self, request):
        return request.user.is_active and request.user.has_perm(ADMIN)
