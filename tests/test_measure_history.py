"""The measure page's 変更履歴: the newest 100 changes, read with the same queries however long the
history grows (each history model reads at most 100 rows, newest first, with the previous values
from the database)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpi.models import MeasureYear

pytestmark = pytest.mark.django_db
YEAR = 2025


def change(record, user, value):
    """One saved change of the KPI actual, by ``user`` (as the history records it)."""
    record.kpi_actual = value
    record._history_user = user
    record.save()


def shown_actual_changes(html):
    """The (old, new) KPI actual changes the page's history lists, top to bottom."""
    history = html.split('<section class="history">', 1)[1].split("</section>", 1)[0]
    return [(int(a), int(b)) for a, b in re.findall(r"KPI実績値：(\d+) → (\d+)</li>", history)]


def test_history_shows_the_newest_100_with_the_same_queries(client, staff_user, measure):
    record = MeasureYear(measure=measure, fiscal_year=YEAR, kpi_actual=0)
    record._history_user = staff_user
    record.save()
    for value in range(1, 5):
        change(record, staff_user, value)
    client.force_login(staff_user)
    url = measure.get_absolute_url()
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    html = response.content.decode()
    assert shown_actual_changes(html) == [(3, 4), (2, 3), (1, 2), (0, 1)]
    assert 'id="older-history"' not in html

    for value in range(5, 281):
        change(record, staff_user, value)
    by_user = MeasureYear.history.filter(measure_id=measure.pk, history_user=staff_user).count()
    assert by_user == 281  # the first save and 280 changes
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    history = response.context["history"]
    assert len(history) == 100
    # the newest 100 changes, newest first, each against the value before it
    assert shown_actual_changes(response.content.decode()) == [(v - 1, v) for v in range(280, 180, -1)]
    assert history.older == by_user - 100
    assert f"さらに古い履歴 {by_user - 100} 件" in response.content.decode()


def test_history_compares_each_row_with_its_own_objects_previous_row(client, staff_user, measure):
    """Two records' rows interleaved in time: each change is against its own record's previous values."""
    first = MeasureYear(measure=measure, fiscal_year=YEAR - 1, kpi_actual=10)
    second = MeasureYear(measure=measure, fiscal_year=YEAR, kpi_actual=50)
    for record in (first, second):
        record._history_user = staff_user
        record.save()
    change(first, staff_user, 11)
    change(second, staff_user, 51)
    change(first, staff_user, 12)
    client.force_login(staff_user)
    assert shown_actual_changes(client.get(measure.get_absolute_url()).content.decode()) == [
        (11, 12),
        (50, 51),
        (10, 11),
    ]


def test_a_fractional_value_left_as_it_was_is_not_listed_as_changed(client, staff_user, measure):
    """The previous values are read back as the row's own are (a decimal stays a decimal on SQLite too): a
    change of 実施内容 alone does not list the KPI actual 12.34 as changed, and the user is named."""
    staff_user.last_name, staff_user.first_name = "大野", "花子"
    staff_user.save()
    record = MeasureYear(measure=measure, fiscal_year=YEAR, kpi_actual="12.34", work_done="講座")
    record._history_user = staff_user
    record.save()
    record.refresh_from_db()
    record.work_done = "講座を2回"
    record._history_user = staff_user
    record.save()
    client.force_login(staff_user)
    history = client.get(measure.get_absolute_url()).content.decode().split('<section class="history">', 1)[1]
    history = history.split("</section>", 1)[0]
    assert "実施内容：講座 → 講座を2回" in history
    assert history.count("KPI実績値") == 1  # the first row only (－ → 12.34)
    assert "KPI実績値：－ → 12.34" in history
    assert "花子 大野" in history or "大野 花子" in history
