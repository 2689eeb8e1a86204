"""Roles are codes bound to groups: an installation from before keeps its members' roles."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from initiatives.models import RoleGroup
from initiatives.roles import Role, setup_roles

pytestmark = pytest.mark.django_db

migration = importlib.import_module("initiatives.migrations.0002_rolegroup")


def test_groups_named_as_before_are_bound_to_their_roles():
    RoleGroup.objects.all().delete()
    Group.objects.all().delete()
    legacy = {role: Group.objects.create(name=name) for role, name in migration.LEGACY_GROUPS.items()}
    migration.bind_legacy_groups(apps, None)
    assert {r.role: r.group for r in RoleGroup.objects.select_related("group")} == legacy
    setup_roles()  # finds every role bound: creates nothing new
    assert Group.objects.count() == 3
    assert set(RoleGroup.objects.values_list("role", flat=True)) == set(Role.values)


def test_setup_roles_on_a_new_installation_creates_one_group_per_role():
    RoleGroup.objects.all().delete()
    Group.objects.all().delete()
    setup_roles()
    setup_roles()
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(str(r.label) for r in Role)
