from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.fiscal import fiscal_year_label
from initiatives.models import Department


class ReportFilterForm(forms.Form):
    """The hearing report's filters: a department and a fiscal year (both optional)."""

    department = forms.ModelChoiceField(
        label=_("担当課"),
        queryset=Department.objects.none(),
        required=False,
        empty_label="すべて",
        to_field_name="code",
    )
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)

    def __init__(self, data, plan):
        super().__init__(data)
        self.fields["department"].queryset = Department.objects.filter(measures__plan=plan).distinct().order_by("code")
        self.fields["year"].choices = [("", "全年度")] + [(y, fiscal_year_label(y)) for y in plan.fiscal_years]
