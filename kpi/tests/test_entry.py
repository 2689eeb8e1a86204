"""Entering actuals: what is saved, what is refused, and two people at once."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import Measure
from kpi.models import BarStatus, MeasureYear

pytestmark = pytest.mark.django_db

YEAR = 2025


def edit_url(measure, year=YEAR):
    return reverse("kpi:measure_year_edit", args=[measure.plan.code, measure.code, year])


def seen_version(html):
    return re.search(r'name="seen_version" value="(\d+)"', html).group(1)


def post_entry(client, measure, year=YEAR, **fields):
    html = client.get(edit_url(measure, year)).content.decode()
    data = {"seen_version": seen_version(html), **fields}
    return client.post(edit_url(measure, year), data)


def field_errors(response, name):
    return response.context["form"].errors.get(name, [])


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_entry_is_saved_with_full_width_digits(staff_client, measure):
    bar = measure.schedule_bars.first()
    response = post_entry(
        staff_client,
        measure,
        kpi_actual="７８．５",
        actual_cost="１，２００",
        actual_general_fund="1,000",
        work_done="スマートフォン講座を12回開催",
        **{f"bar_{bar.pk}": "in_progress"},
    )
    assert response.status_code == 302
    record = MeasureYear.objects.get(measure=measure, fiscal_year=YEAR)
    assert (record.kpi_actual, record.actual_cost, record.actual_general_fund) == (Decimal("78.5"), 1200, 1000)
    assert record.status == MeasureYear.Status.DRAFT
    assert record.version == 1
    assert BarStatus.objects.get(measure_year=record, bar=bar).state == "in_progress"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("actual_cost", "-100", "0 以上"),
        ("actual_cost", "たくさん", "整数"),
        ("kpi_actual", "abc", "数値"),
        ("kpi_actual", "-1", "0 以上"),
        ("kpi_actual", "120", "単位が%の値は100以下で入力してください。"),
        ("work_done", "あ" * 2001, "2000 文字以下"),
    ],
)
def test_bad_input_gets_a_japanese_message_next_to_the_field(staff_client, measure, field, value, message):
    response = post_entry(staff_client, measure, **{field: value})
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert any(message in e for e in errors), errors
    html = response.content.decode()
    # shown beside the field, and tied to it for screen readers
    assert f'id="id_{field}_error"' in html
    assert re.search(rf'name="{field}"[^>]*aria-describedby="[^"]*id_{field}_error', html) or re.search(
        rf'aria-describedby="[^"]*id_{field}_error[^>]*name="{field}"', html
    )
    assert not MeasureYear.objects.filter(measure=measure, fiscal_year=YEAR).exists()


def test_funding_breakdown_cannot_exceed_the_cost(staff_client, measure):
    response = post_entry(
        staff_client, measure, actual_cost="1000", actual_general_fund="800", actual_other_funds="300"
    )
    assert field_errors(response, "actual_general_fund") == ["財源の内訳が決算額を超えています。"]
    assert not MeasureYear.objects.exists()


def test_funding_breakdown_needs_the_cost(staff_client, measure):
    response = post_entry(staff_client, measure, actual_general_fund="5000")
    assert field_errors(response, "actual_cost") == ["財源の内訳を入れる場合は決算額も入力してください。"]
    assert not MeasureYear.objects.exists()


def test_year_outside_the_plan_is_refused(staff_client, measure):
    response = staff_client.post(edit_url(measure, 2026), {"seen_version": "0", "kpi_actual": "70"})
    assert response.status_code == 404
    assert not MeasureYear.objects.exists()


def test_locked_year_cannot_be_changed(staff_client, measure):
    record = MeasureYear.objects.create(
        measure=measure, fiscal_year=YEAR, kpi_actual=70, status=MeasureYear.Status.APPROVED
    )
    response = staff_client.post(edit_url(measure), {"seen_version": str(record.version), "kpi_actual": "99"})
    assert response.status_code == 200
    assert "承認済みでロックされています" in response.content.decode()
    record.refresh_from_db()
    assert record.kpi_actual == 70


def test_text_target_is_judged_with_a_reason(staff_client, plan, department):
    windows = Measure.objects.get(plan=plan, name="書かない・待たない窓口の導入")  # R7: 導入を決定した全窓口
    windows.department = department
    windows.save()
    response = post_entry(staff_client, windows, kpi_actual_text="5窓口で導入", judged_grade="B")
    assert field_errors(response, "evaluation_comment") == ["判定の理由を入力してください。"]
    assert not MeasureYear.objects.exists()
    response = post_entry(
        staff_client, windows, kpi_actual_text="5窓口で導入", judged_grade="B", evaluation_comment="予定の窓口の8割"
    )
    assert response.status_code == 302
    assert MeasureYear.objects.get(measure=windows).judged_grade == "B"


def test_numeric_target_offers_no_judged_grade(staff_client, measure):
    html = staff_client.get(edit_url(measure)).content.decode()
    assert 'name="judged_grade"' not in html
    assert "KPI実績値（%）" in html


def test_second_of_two_concurrent_saves_is_refused(measure, staff_user, dx_user):
    first, second = Client(), Client()
    first.force_login(staff_user)
    second.force_login(dx_user)
    # Both open the same, still empty, form.
    v1 = seen_version(first.get(edit_url(measure)).content.decode())
    v2 = seen_version(second.get(edit_url(measure)).content.decode())
    assert first.post(edit_url(measure), {"seen_version": v1, "kpi_actual": "74"}).status_code == 302
    response = second.post(edit_url(measure), {"seen_version": v2, "kpi_actual": "80"})
    assert response.status_code == 200
    assert "他の人が更新しています" in response.content.decode()
    record = MeasureYear.objects.get(measure=measure, fiscal_year=YEAR)
    assert record.kpi_actual == 74

    # Both open the saved record; again only the first save lands.
    v1 = seen_version(first.get(edit_url(measure)).content.decode())
    v2 = seen_version(second.get(edit_url(measure)).content.decode())
    assert first.post(edit_url(measure), {"seen_version": v1, "kpi_actual": "75"}).status_code == 302
    response = second.post(edit_url(measure), {"seen_version": v2, "kpi_actual": "81"})
    assert "他の人が更新しています" in response.content.decode()
    record.refresh_from_db()
    assert (record.kpi_actual, record.version) == (75, 2)
