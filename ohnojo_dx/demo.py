"""Demo departments, one account per role and sample actuals, all labelled サンプル.

Loaded only by `manage.py load_demo` (make run), never by the plan fixtures:
the plan names no departments, so which sample department owns which measure
is made up here for demonstration.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from initiatives.models import Department, Measure, Plan
from initiatives.roles import Role, role_group, setup_roles
from kpi.models import DEFAULT_LICENCE, Publication
from kpi.publishing import publish, publishable_improvements
from ohnojo_dx.sample_actuals import load_sample_actuals

DEMO_PASSWORD = "ohnojo-demo-2026"

DEPARTMENTS = [
    ("sample-dx", "DX推進課"),
    ("sample-shimin", "市民課"),
    ("sample-kodomo", "こども未来課"),
    ("sample-bousai", "防災安全課"),
    ("sample-soumu", "総務課"),
]

# (username, display name, role, department code or None); the admin admits by role, not is_staff
ACCOUNTS = [
    ("dx_office", "DX推進部門 サンプル職員", Role.DX_OFFICE, "sample-dx"),
    ("tantou", "担当課 サンプル職員", Role.DEPARTMENT, "sample-shimin"),
    ("shochou", "所属長 サンプル職員", Role.VIEWER, None),
]


@transaction.atomic
def load_demo(plan_code):
    setup_roles()
    departments = []
    for code, name in DEPARTMENTS:
        department, _ = Department.objects.update_or_create(code=code, defaults={"name": name, "is_sample": True})
        departments.append(department)

    # Spread the plan's measures over the sample departments, only where no real one is set.
    measures = Measure.objects.filter(plan__code=plan_code, department__isnull=True).order_by("pk")
    for index, measure in enumerate(measures):
        measure.department = departments[index % len(departments)]
        measure.save(update_fields=["department"])

    User = get_user_model()
    approver = None
    for username, display, role, department_code in ACCOUNTS:
        user, created = User.objects.get_or_create(username=username)
        user.first_name = display
        if created:
            user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([role_group(role)])
        if department_code:
            user.departments.set([Department.objects.get(code=department_code)])
        if role == Role.DX_OFFICE:
            approver = user
    plan = Plan.objects.get(code=plan_code)
    load_sample_actuals(plan, approver)
    # The public page shows a year: the plan's first, whose sample records are all approved.
    if not Publication.objects.filter(plan=plan, fiscal_year=plan.start_year).exists():
        improvements = publishable_improvements(plan, plan.start_year)
        publish(plan, plan.start_year, approver, 0, *DEFAULT_LICENCE, improvements=improvements)
