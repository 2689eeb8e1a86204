"""Who may do what: the one set of predicates every view, template, the admin and the API ask.

- DX推進部門: edit the plan in the admin; enter, approve, return and reopen any measure-year.
- 担当課: enter actuals and self-evaluations for their own departments' measures.
- 所属長・部長: read every page and report.
- A signed-in account in none of these roles sees nothing until given one.

The predicates are registered with django-rules (its ObjectPermissionBackend is in
AUTHENTICATION_BACKENDS), so code asks ``user.has_perm("portal.enter_measure", measure)`` and
templates ``{% has_perm "portal.approve" user as can_approve %}``. Groups carry no model
permissions: a role is its code (initiatives.roles.Role), whatever its group is named.

Whether a year is locked is not a permission but a state of the PDCA record: kpi.workflow.
"""

import rules
from django.core.exceptions import PermissionDenied

from .roles import Role

VIEW = "portal.view"
ENTER_MEASURE = "portal.enter_measure"  # object: a Measure
ENTER_DEPARTMENT = "portal.enter_department"  # object: a Department
APPROVE = "portal.approve"
ADMIN = "portal.admin"


def roles_of(user):
    """The role codes of a user, read once per request."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_portal_roles"):
        user._portal_roles = frozenset(
            user.groups.filter(portal_role__isnull=False).values_list("portal_role__role", flat=True)
        )
    return user._portal_roles


def department_ids(user):
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_portal_department_ids"):
        user._portal_department_ids = frozenset(user.departments.values_list("pk", flat=True))
    return user._portal_department_ids


@rules.predicate
def is_dx_office(user):
    return Role.DX_OFFICE in roles_of(user)


@rules.predicate
def is_department_staff(user):
    return Role.DEPARTMENT in roles_of(user)


@rules.predicate
def is_viewer(user):
    return Role.VIEWER in roles_of(user)


@rules.predicate
def owns_measure(user, measure):
    return measure is not None and measure.department_id is not None and measure.department_id in department_ids(user)


@rules.predicate
def member_of(user, department):
    return department is not None and department.pk in department_ids(user)


rules.add_perm(VIEW, is_dx_office | is_department_staff | is_viewer)
rules.add_perm(ENTER_MEASURE, is_dx_office | (is_department_staff & owns_measure))
rules.add_perm(ENTER_DEPARTMENT, is_dx_office | (is_department_staff & member_of))
rules.add_perm(APPROVE, is_dx_office)
rules.add_perm(ADMIN, is_dx_office)


def register_admin_perms(app_config, never=()):
    """The admin's model permissions of an app: the DX推進部門 edits the plan data.

    ``never`` names permissions nobody holds (a superuser excepted), e.g. deleting a whole plan.
    """
    rules.set_perm(app_config.label, is_dx_office)  # has_module_perms: the app shows in the admin
    for model in app_config.get_models():
        opts = model._meta
        for action in opts.default_permissions:
            name = f"{opts.app_label}.{action}_{opts.model_name}"
            rules.set_perm(name, rules.always_deny if name in never else is_dx_office)


def require(allowed):
    if not allowed:
        raise PermissionDenied("この操作を行う権限がありません。")
