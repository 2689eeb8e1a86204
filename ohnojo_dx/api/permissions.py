"""Who may use the API: the portal's own predicates (initiatives.permissions), nothing of DRF's own.

Reading needs ``portal.view`` (any role). Writing asks the page's predicate on the object
(``portal.enter_measure``, ``portal.approve``) in the view, and kpi.workflow asks again.
"""

from rest_framework.permissions import BasePermission

from initiatives.middleware import NO_ROLE
from initiatives.permissions import VIEW


class CanViewPortal(BasePermission):
    """Signed in (session or token) and in a portal role. Anonymous: 401; no role: 403 with the pages' message."""

    message = NO_ROLE

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(VIEW))
