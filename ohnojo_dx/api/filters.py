"""The list endpoints' filters (django-filter). Codes and numbers as the plan prints them, never database ids.

Numbers are bounded before they reach a query: any digits may come in a query string, and a number too
large for the column must be a 400, not a database error.
"""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from initiatives.models import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN, Initiative, Measure
from kpi.models import MeasureYear

SMALL_MAX = 32767  # PositiveSmallIntegerField


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": SMALL_MAX})
class SmallNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=0, max_value=SMALL_MAX, **kwargs)


@extend_schema_field({"type": "integer", "minimum": FISCAL_YEAR_MIN, "maximum": FISCAL_YEAR_MAX})
class FiscalYearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=FISCAL_YEAR_MIN, max_value=FISCAL_YEAR_MAX, **kwargs)


def department_filter(prefix=""):
    return django_filters.CharFilter(field_name=f"{prefix}department__code", label="担当課のコード", max_length=40)


def policy_filter(prefix=""):
    return SmallNumberFilter(field_name=f"{prefix}initiative__policy__number", label="基本方針の番号")


class InitiativeFilter(django_filters.FilterSet):
    policy = SmallNumberFilter(field_name="policy__number", label="基本方針の番号")
    status = django_filters.ChoiceFilter(choices=Initiative.Status.choices, label="状態")

    class Meta:
        model = Initiative
        fields = ["policy", "status"]


class MeasureFilter(django_filters.FilterSet):
    department = department_filter()
    policy = policy_filter()

    class Meta:
        model = Measure
        fields = ["department", "policy"]


class RecordFilter(django_filters.FilterSet):
    fiscal_year = FiscalYearFilter(label="年度（西暦）")
    status = django_filters.ChoiceFilter(choices=MeasureYear.Status.choices, label="状態")
    department = department_filter("measure__")
    policy = policy_filter("measure__")
    measure = django_filters.CharFilter(field_name="measure__code", label="施策コード", max_length=40)

    class Meta:
        model = MeasureYear
        fields = ["fiscal_year", "status", "department", "policy", "measure"]


class HearingFilter(django_filters.FilterSet):
    """Which measures the hearing figures cover; the year is read by the view."""

    year = FiscalYearFilter(label="年度（西暦）。省略すると計画の全年度", method="by_year")
    department = department_filter()
    policy = policy_filter()

    class Meta:
        model = Measure
        fields = ["year", "department", "policy"]

    def by_year(self, queryset, name, value):
        return queryset  # not a filter on the measures: the view asks for the facts of that year
