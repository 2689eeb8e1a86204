import pytest

from initiatives.models import Measure


@pytest.fixture
def other_measure(plan, other_department):
    """A measure of another department."""
    measure = Measure.objects.get(plan=plan, name="オンライン申請の拡充")
    measure.department = other_department
    measure.save()
    return measure
