"""Shared test fixtures: the real plan, one user per role, and small helpers."""

import contextlib
import json
import os
import socket
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import sync_playwright

from initiatives.models import Department, Measure, Plan
from initiatives.roles import Role, role_group, setup_roles
from ohnojo_dx.plan_loader import import_plan

# Playwright's sync API runs an event loop in the test thread; Django's async
# safety check would otherwise refuse ORM calls from live_server tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PLAN_FILE = Path(__file__).parent / "fixtures" / "ohnojo_dx_r4.json"
PLAN_CODE = "ohnojo-dx-r4"
PASSWORD = "test-pass-2026"


def plan_data():
    return json.loads(PLAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the plan once per test database; tests roll back around it."""
    with django_db_blocker.unblock():
        import_plan(plan_data())


@pytest.fixture
def plan(db):
    # Transactional (live server) tests flush the database afterwards; load again if so.
    return Plan.objects.filter(code=PLAN_CODE).first() or import_plan(plan_data())


@pytest.fixture
def department(db):
    return Department.objects.create(code="test-dept", name="テスト課")


@pytest.fixture
def other_department(db):
    return Department.objects.create(code="test-other", name="別のテスト課")


def make_user(username, role=None, department=None, is_staff=False):
    setup_roles()
    user = User.objects.create_user(username, password=PASSWORD, is_staff=is_staff)
    if role:
        user.groups.add(role_group(role))
    if department:
        user.departments.add(department)
    return user


@pytest.fixture
def measure(plan, department):
    """デジタル・デバイド対策 (unit %), owned by the staff user's department."""
    measure = Measure.objects.select_related("kgi", "plan").get(plan=plan, name="デジタル・デバイド対策")
    measure.department = department
    measure.save()
    return measure


@pytest.fixture
def dx_user(db, department):
    return make_user("dx", Role.DX_OFFICE, department)


@pytest.fixture
def staff_user(db, department):
    return make_user("tantou", Role.DEPARTMENT, department)


@pytest.fixture
def viewer(db):
    return make_user("shochou", Role.VIEWER)


@pytest.fixture
def outsider(db):
    """Logged in, but in no role and no department."""
    return make_user("outsider")


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    """Tests run with DEBUG off but without collectstatic; serve static files unhashed."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def grow_plan(plan, count, year=2025):
    """Add `count` synthetic measures (with targets, costs, actuals and national 重点取組事項) to the plan, in bulk.

    For tests that pin query counts: a page must make as many queries for
    3,000 measures as for 30.
    """
    from budget.models import BudgetFigure, PlannedCost
    from initiatives.models import Measure
    from kpi.models import Kgi, KpiTarget, MeasureYear

    initiative = plan.policies.get(number=2).initiatives.get(number=1)
    start = Measure.objects.filter(initiative=initiative).count() + 1
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, initiative=initiative, code=f"X-{i}", ordinal=start + i, name=f"合成施策{i}")
        for i in range(count)
    )
    # Each tagged with a national 重点取組事項 of the plan, so that pages showing the tags are measured with them.
    priorities = list(plan.national_priorities.order_by("number"))
    if priorities:
        Tag = Measure.national_priorities.through
        Tag.objects.bulk_create(
            Tag(measure=m, nationalpriority=priorities[i % len(priorities)]) for i, m in enumerate(measures)
        )
    Kgi.objects.bulk_create(Kgi(measure=m, text="件数：10件", indicator="件数", target=10, unit="件") for m in measures)
    KpiTarget.objects.bulk_create(KpiTarget(measure=m, fiscal_year=year, value=10) for m in measures)
    PlannedCost.objects.bulk_create(PlannedCost(measure=m, fiscal_year=year, amount=100) for m in measures)
    MeasureYear.objects.bulk_create(
        MeasureYear(measure=m, fiscal_year=year, kpi_actual=i % 12, actual_cost=90, status="submitted")
        for i, m in enumerate(measures)
    )
    BudgetFigure.objects.bulk_create(
        BudgetFigure(measure=m, fiscal_year=year, stage=stage, amount=100 + i % 3, general_fund=100 + i % 3)
        for i, m in enumerate(measures)
        for stage in BudgetFigure.Stage
    )
    return measures


@pytest.fixture(autouse=True)
def _reopen_before_flush(request):
    """After a live-server test, SQLite empties the tables row by row, and the lock's triggers refuse
    to delete an approved year's rows and a confirmed 上期 report: reopen them first (PostgreSQL truncates)."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # so this runs its teardown before the flush
    yield
    from kpi.models import InterimReview, MeasureYear

    MeasureYear.objects.filter(status=MeasureYear.Status.APPROVED).update(status=MeasureYear.Status.DRAFT)
    InterimReview.objects.filter(status=InterimReview.Status.CONFIRMED).update(status=InterimReview.Status.DRAFT)


def grid_data(rows):
    """What the department grid posts: its formset's management form, then each row's fields in page
    order. ``rows``: [(measure, {field: value})], the measures in the grid's order."""
    data = {"grid-TOTAL_FORMS": str(len(rows)), "grid-INITIAL_FORMS": str(len(rows))}
    for index, (measure, fields) in enumerate(rows):
        data[f"grid-{index}-row_measure"] = str(measure.pk)
        data.update({f"grid-{index}-{name}": value for name, value in fields.items()})
    return data


# --- Browser tests: Debian's chromium through Playwright, one browser for the whole run -------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page that records console errors and any request leaving this machine."""
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, locale="ja-JP")
    page = context.new_page()
    page.problems = []
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))

    def check_host(request):
        host = request.url.split("/")[2].split(":")[0] if "://" in request.url else ""
        if request.url.startswith(("http:", "https:")) and host not in LOCAL_HOSTS:
            page.problems.append(f"outside request: {request.url}")

    page.on("request", check_host)
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status}: {r.url}"))
    yield page
    context.close()


# --- A database that cannot be reached (tests/test_faults.py, tests/test_hardening.py) ---------------------


def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def database_down(tmp_path):
    """The default alias pointed at a database that cannot be reached (the real driver's error)."""
    original = connections["default"]
    unreachable = {**original.settings_dict}
    if original.vendor == "sqlite":
        unreachable["NAME"] = str(tmp_path / "no-such-directory" / "db.sqlite3")
    else:
        unreachable.update(HOST="127.0.0.1", PORT=str(unused_port()))
    connections["default"] = original.__class__(unreachable, alias="default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = original
