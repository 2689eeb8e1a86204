"""The portal's roles, as Django groups, and what each may do in the admin.

Groups are configuration, not demo data: `manage.py setup_roles` creates them
on every installation (make run calls it).
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import TextChoices


class Role(TextChoices):
    DX_OFFICE = "DX推進部門", "DX推進部門"
    DEPARTMENT = "担当課", "担当課"
    VIEWER = "所属長", "所属長・部長"


PLAN_APPS = ("initiatives", "kpi", "budget")


def setup_roles():
    """Create the groups and give them their model permissions; safe to run again."""
    plan_perms = Permission.objects.filter(content_type__app_label__in=PLAN_APPS)
    view_perms = plan_perms.filter(codename__startswith="view_")
    grants = {
        # Deleting a whole plan would take every record under it: only a superuser may.
        Role.DX_OFFICE: plan_perms.exclude(codename="delete_plan"),
        Role.DEPARTMENT: view_perms,
        Role.VIEWER: view_perms,
    }
    for role, perms in grants.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(perms)
