"""Who may do what: the one place every view (and the API) asks.

- DX推進部門: edit the plan; enter, approve, return and reopen any measure-year.
- 担当課: enter actuals and self-evaluations for their own departments' measures.
- 所属長・部長: read every page and report.
- A signed-in account in none of these roles sees nothing until given one.
A locked (approved) year can be changed by nobody until the DX推進部門 reopens it.
"""

from django.core.exceptions import PermissionDenied

from .roles import Role


def roles_of(user):
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_portal_roles"):
        user._portal_roles = set(user.groups.values_list("name", flat=True))
    return user._portal_roles


def can_view(user):
    """Read access to the portal's pages: any of the three roles (or a superuser)."""
    return user.is_authenticated and user.is_active and (user.is_superuser or bool(roles_of(user)))


def is_dx_office(user):
    return user.is_authenticated and (user.is_superuser or Role.DX_OFFICE.value in roles_of(user))


def department_ids(user):
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_portal_department_ids"):
        user._portal_department_ids = set(user.departments.values_list("pk", flat=True))
    return user._portal_department_ids


def can_enter(user, measure):
    """May this user enter actuals and the self-evaluation of this measure?"""
    if is_dx_office(user):
        return True
    return (
        Role.DEPARTMENT.value in roles_of(user)
        and measure.department_id is not None
        and measure.department_id in department_ids(user)
    )


def can_enter_department(user, department):
    """May this user open the department's entry grid?"""
    return is_dx_office(user) or (Role.DEPARTMENT.value in roles_of(user) and department.pk in department_ids(user))


def can_approve(user):
    return is_dx_office(user)


def enterable_measures(user, measures):
    """Narrow a Measure queryset to those the user may enter (for grids and the API)."""
    if is_dx_office(user):
        return measures
    if Role.DEPARTMENT.value not in roles_of(user):
        return measures.none()
    return measures.filter(department__in=department_ids(user))


def require(allowed):
    if not allowed:
        raise PermissionDenied("この操作を行う権限がありません。")
