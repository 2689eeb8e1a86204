"""The portal's roles: stable codes, each bound to a Django group an administrator may rename.

Groups are configuration, not demo data: `manage.py setup_roles` creates them on every
installation (make run calls it). What a role may do is decided in initiatives/permissions.py,
not by model permissions on the groups.
"""

from django.contrib.auth.models import Group
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    DX_OFFICE = "dx_office", _("DX推進部門")
    DEPARTMENT = "department", _("担当課")
    VIEWER = "viewer", _("所属長・部長")


def setup_roles():
    """Create one group per role (named after the role at first) and bind it; safe to run again."""
    from .models import RoleGroup

    for role in Role:
        if not RoleGroup.objects.filter(role=role).exists():
            group, _created = Group.objects.get_or_create(name=str(role.label))
            RoleGroup.objects.create(role=role, group=group)


def role_group(role):
    from .models import RoleGroup

    return RoleGroup.objects.select_related("group").get(role=role).group
