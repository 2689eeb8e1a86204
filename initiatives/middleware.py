from django.core.exceptions import PermissionDenied
from django.utils.cache import add_never_cache_headers

from .permissions import VIEW

NO_ROLE = "このアカウントには役割（DX推進部門・担当課・所属長）が設定されていません。管理者に連絡してください。"


def role_not_required(view):
    """Mark a view that a signed-in account without a portal role may still open (e.g. logout)."""
    view.role_required = False
    return view


class RoleRequiredMiddleware:
    """After LoginRequiredMiddleware: a signed-in account without a portal role sees no page.

    Views that need no login (``login_not_required``) or no role (``role_not_required``) say so
    themselves; the admin site admits by the same predicates (ohnojo_dx.admin_site).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        open_view = not getattr(view_func, "login_required", True) or not getattr(view_func, "role_required", True)
        if open_view or request.resolver_match.app_name == "admin":
            return None
        if request.user.is_authenticated and not request.user.has_perm(VIEW):
            raise PermissionDenied(NO_ROLE)
        return None


class NoStoreForSignedInMiddleware:
    """Pages and downloads for a signed-in user are never kept by the browser or a proxy.

    Static files are served by WhiteNoise before this middleware runs, so they stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
