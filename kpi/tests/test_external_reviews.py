"""外部評価 per review period (kpi.models.ExternalReview): recorded by the DX推進部門 for the plan's own periods
(年度, or 上期・下期 on a plan reviewed every half year), read by every role, public ones on the public page."""

import pytest
from django.urls import reverse

from initiatives.models import Measure
from kpi.models import ExternalReview
from kpi.publishing import publish

pytestmark = pytest.mark.django_db

YEAR = 2025


def url(plan, year=YEAR):
    return reverse("kpi:external_reviews", args=[plan.code, year])


def record(client, plan, **fields):
    data = {"period": "", "reviewer": "外部有識者A（大学教授）", "comment": "オンライン申請の周知が必要", **fields}
    return client.post(url(plan), data)


@pytest.fixture
def half_year_plan(plan):
    plan.review_cycle = "half"
    plan.save()
    return plan


def test_a_half_year_plan_takes_a_comment_per_half(client, dx_user, half_year_plan):
    client.force_login(dx_user)
    html = client.get(url(half_year_plan)).content.decode()
    assert '<option value="H1">上期</option>' in html and '<option value="H2">下期</option>' in html
    response = record(client, half_year_plan, period="")
    assert response.status_code == 200 and "この項目は必須です。" in response.content.decode()
    measure = Measure.objects.filter(plan=half_year_plan).first()
    assert record(client, half_year_plan, period="H1", measure_code=measure.code).status_code == 302
    assert record(client, half_year_plan, period="H2", reviewer="外部有識者B").status_code == 302
    rows = list(ExternalReview.objects.order_by("pk").values_list("period", "reviewer", "measure_id"))
    assert rows == [("H1", "外部有識者A（大学教授）", measure.pk), ("H2", "外部有識者B", None)]
    html = client.get(url(half_year_plan)).content.decode()
    assert "R7（2025）年度 上期" in html and "R7（2025）年度 下期" in html
    assert ExternalReview.history.filter(history_user=dx_user, history_change_reason="外部評価の記録").count() == 2


def test_bad_input_is_named_and_nothing_is_written(client, dx_user, plan):
    client.force_login(dx_user)
    response = record(client, plan, period="H1")  # a yearly plan has no halves
    assert "正しく選択してください" in response.content.decode()
    response = record(client, plan, measure_code="NO-SUCH")
    assert "この計画に施策コード「NO-SUCH」はありません。" in response.content.decode()
    response = record(client, plan, comment="")
    assert "この項目は必須です。" in response.content.decode()
    assert not ExternalReview.objects.exists()


def test_every_role_reads_and_only_the_dx_office_records_or_removes(client, dx_user, staff_user, viewer, plan):
    review = ExternalReview.objects.create(plan=plan, fiscal_year=YEAR, reviewer="有識者", comment="意見です")
    for user in (staff_user, viewer):
        client.force_login(user)
        page = client.get(url(plan))
        assert page.status_code == 200 and "意見です" in page.content.decode()
        assert 'name="reviewer"' not in page.content.decode()
        assert record(client, plan).status_code == 403
        assert client.post(url(plan), {"delete": review.pk}).status_code == 403
    client.force_login(dx_user)
    assert client.post(url(plan), {"delete": review.pk}).status_code == 302
    assert not ExternalReview.objects.exists()


def test_the_public_page_shows_the_public_comments_of_a_published_year(client, dx_user, plan):
    ExternalReview.objects.create(
        plan=plan, fiscal_year=YEAR, reviewer="有識者A", comment="公表する意見", is_public=True
    )
    ExternalReview.objects.create(plan=plan, fiscal_year=YEAR, reviewer="有識者B", comment="内部だけの意見")
    ExternalReview.objects.create(
        plan=plan, fiscal_year=YEAR - 1, reviewer="有識者C", comment="前年度の意見", is_public=True
    )
    publish(plan, YEAR, dx_user, 0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja", [])
    html = client.get(reverse("kpi:public_year", args=[plan.code, YEAR])).content.decode()
    assert "公表する意見" in html
    assert "内部だけの意見" not in html and "前年度の意見" not in html
