"""The admin's measure pages: their queries pinned at the 30-measure plan and the same plan grown to
3,000 measures, and with more 取組 (Initiative.__str__ shows its 基本方針's numeral: read once, in one
query, never once per 取組)."""

import pytest
from django.urls import reverse

from conftest import grow_plan
from initiatives.models import Initiative, Measure, Policy

pytestmark = pytest.mark.django_db

SIGNED_IN = 3  # session, user, the user's roles
PAGES = {
    # plan, policy, 取組 (with policy), 重点取組事項 and department filters; two counts; the page of measures
    "change list": 8,
    # measure, its 重点取組事項, locked years ×2, KPI targets, planned costs, KGI, schedule bars; the plan,
    # 取組 (with policy), 重点取組事項, department and third-level group (its 取組's) choices
    "change form": 13,
}


def url_of(page, measure):
    if page == "change list":
        return reverse("admin:initiatives_measure_changelist")
    return reverse("admin:initiatives_measure_change", args=[measure.pk])


def more_initiatives(plan, count):
    policy = Policy.objects.create(plan=plan, number=9, numeral="Ⅸ", title="追加の方針")
    Initiative.objects.bulk_create(
        Initiative(policy=policy, number=n + 1, title=f"追加の取組{n}") for n in range(count)
    )


@pytest.mark.parametrize("page", PAGES)
def test_admin_measure_pages_do_not_grow_with_the_plan(client, dx_user, plan, page, django_assert_num_queries):
    measure = Measure.objects.filter(plan=plan).order_by("pk").first()
    url = url_of(page, measure)
    client.force_login(dx_user)
    assert client.get(url).status_code == 200  # warm Django's content-type cache (the history link)
    with django_assert_num_queries(SIGNED_IN + PAGES[page]):
        response = client.get(url)
    assert response.status_code == 200
    grow_plan(plan, 2970)
    more_initiatives(plan, 40)
    with django_assert_num_queries(SIGNED_IN + PAGES[page]):
        response = client.get(url)
    assert response.status_code == 200
    # the 取組 are all offered, labelled with their policy's numeral
    assert "Ⅸ-取組40：追加の取組39" in response.content.decode()


def test_superuser_sees_the_same_queries(client, plan, django_assert_num_queries):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("root", password="test-pass-2026")
    measure = Measure.objects.filter(plan=plan).order_by("pk").first()
    client.force_login(admin)
    url = url_of("change form", measure)
    assert client.get(url).status_code == 200
    more_initiatives(plan, 40)
    # a superuser has no roles to read: one query fewer to sign in
    with django_assert_num_queries(SIGNED_IN - 1 + PAGES["change form"]):
        assert client.get(url).status_code == 200
