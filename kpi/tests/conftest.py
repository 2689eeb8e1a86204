import pytest

from initiatives.models import Measure


@pytest.fixture
def measure(plan, department):
    """デジタル・デバイド対策 (unit %), owned by the staff user's department."""
    measure = Measure.objects.select_related("kgi", "plan").get(plan=plan, name="デジタル・デバイド対策")
    measure.department = department
    measure.save()
    return measure


@pytest.fixture
def other_measure(plan, other_department):
    """A measure of another department."""
    measure = Measure.objects.get(plan=plan, name="オンライン申請の拡充")
    measure.department = other_department
    measure.save()
    return measure
