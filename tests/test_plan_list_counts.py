"""The plan list's counts (個別施策, 今後検討する取組) are each plan's own, for plans of different sizes
(counted by subqueries in one query: no join of measures × 取組 multiplying the rows)."""

import pytest
from django.urls import reverse

from initiatives.models import Initiative, Measure, Plan, Policy

pytestmark = pytest.mark.django_db


def small_plan(code, measures, future):
    plan = Plan.objects.create(
        code=code, title=f"計画{code}", municipality="テスト市", vision="", start_year=2024, end_year=2028
    )
    policy = Policy.objects.create(plan=plan, number=1, numeral="Ⅰ", title="方針")
    done = Initiative.objects.create(policy=policy, number=1, title="取組")
    for n in range(future):
        Initiative.objects.create(policy=policy, number=n + 2, title=f"今後{n}", status=Initiative.Status.FUTURE)
    Measure.objects.bulk_create(
        Measure(plan=plan, initiative=done, code=f"{code}-{i}", ordinal=i + 1, name=f"施策{i}") for i in range(measures)
    )
    return plan


def test_each_plan_shows_its_own_counts(client, dx_user, plan, django_assert_num_queries):
    small_plan("small", measures=3, future=2)
    small_plan("empty", measures=0, future=0)
    expected = {
        p.code: (
            Measure.objects.filter(plan=p).count(),
            Initiative.objects.filter(policy__plan=p, status=Initiative.Status.FUTURE).count(),
        )
        for p in Plan.objects.all()
    }
    assert expected["small"] == (3, 2) and expected["empty"] == (0, 0)
    assert expected[plan.code][0] == 30 and expected[plan.code][1] > 0  # the real plan: larger on both counts
    client.force_login(dx_user)
    with django_assert_num_queries(3 + 1):  # signed in (session, user, roles), then the plans with their counts
        response = client.get(reverse("initiatives:plan_list"))
    shown = {p.code: (p.measure_count, p.future_count) for p in response.context["plans"]}
    assert shown == expected
    page = response.content.decode()
    assert '<td class="num">3</td>\n      <td class="num">2</td>' in page
