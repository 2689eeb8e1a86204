from django.core.exceptions import PermissionDenied

from .permissions import can_view

# Pages with their own rules: the login and logout pages, the admin (staff
# permissions), static files and the health check.
OPEN_PREFIXES = ("/accounts/", "/admin/", "/static/", "/healthz")
NO_ROLE = "このアカウントには役割（DX推進部門・担当課・所属長）が設定されていません。管理者に連絡してください。"


class RoleRequiredMiddleware:
    """After LoginRequiredMiddleware: a signed-in account without a portal role sees no page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated and not request.path.startswith(OPEN_PREFIXES) and not can_view(request.user):
            raise PermissionDenied(NO_ROLE)
        return None
