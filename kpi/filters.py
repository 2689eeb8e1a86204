"""Dashboard and measure-list filters (django-filter).

Department, policy, initiative and national 重点取組事項 narrow the measures here; grade, PDCA stage
and "needs attention" depend on the year, so kpi.facts.filter_classified applies them to the year's
classification (kpi.facts.classified).
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.models import Department, Initiative, NationalPriority, Policy

from .attention import ATTENTION

STAGE_LABELS = {"P": "P 目標のみ", "D": "D 実績入力", "C": "C 評価済み", "A": "A 改善方針"}
COMPUTED = ("grade", "stage", "attention")


class MeasureFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(label=_("担当課"), queryset=Department.objects.none())
    policy = django_filters.ModelChoiceFilter(
        label=_("基本方針"), field_name="initiative__policy", queryset=Policy.objects.none()
    )
    initiative = django_filters.ModelChoiceFilter(label=_("取組"), queryset=Initiative.objects.none())
    national_priority = django_filters.ModelChoiceFilter(
        label=_("国の重点取組事項"), field_name="national_priorities", queryset=NationalPriority.objects.none()
    )
    grade = django_filters.ChoiceFilter(
        label=_("評価"),
        choices=[],  # the plan's grades (__init__)
        method="computed",
        empty_label="すべて",
    )
    stage = django_filters.ChoiceFilter(
        label=_("PDCA段階"), choices=list(STAGE_LABELS.items()), method="computed", empty_label="すべて"
    )
    attention = django_filters.ChoiceFilter(
        label=_("要確認"), choices=[("any", "いずれか"), *ATTENTION.items()], method="computed", empty_label="すべて"
    )

    def __init__(self, data, queryset, plan, scale):
        super().__init__(data, queryset=queryset)
        self.filters["grade"].extra["choices"] = [(g, g) for g in scale.letters] + [("none", "未評価")]
        self.filters["department"].queryset = Department.objects.filter(measures__plan=plan).distinct()
        self.filters["policy"].queryset = Policy.objects.filter(plan=plan).order_by("number")
        self.filters["initiative"].queryset = (
            Initiative.objects.filter(policy__plan=plan, status=Initiative.Status.ACTIVE)
            .select_related("policy")
            .order_by("policy__number", "number")
        )
        self.filters["national_priority"].queryset = NationalPriority.objects.filter(plan=plan).order_by("number")
        self.filters["policy"].label, self.filters["initiative"].label = plan.policy_level, plan.initiative_level
        fields = self.form.fields
        fields["policy"].label_from_instance = lambda p: plan.policy_label(p.numeral, p.title)
        fields["initiative"].label_from_instance = lambda i: (
            f"{i.policy.numeral}-{plan.initiative_label(i.number, i.title)}"
        )
        for f in self.form.fields.values():
            f.widget.attrs.setdefault("class", "filter-input")
        self.form.fields["department"].empty_label = self.form.fields["policy"].empty_label = "すべて"
        self.form.fields["initiative"].empty_label = self.form.fields["national_priority"].empty_label = "すべて"

    def computed(self, queryset, name, value):
        return queryset  # applied to the year's classification, see computed_filters()

    def computed_filters(self):
        if not self.is_bound:
            return dict.fromkeys(COMPUTED, "")
        self.form.is_valid()  # an invalid department must not switch off a valid grade filter
        return {name: self.form.cleaned_data.get(name) or "" for name in COMPUTED}


class PlanYearForm(forms.Form):
    """Which plan and fiscal year a dashboard or report is about."""

    plan = forms.SlugField(required=False)
    year = forms.IntegerField(required=False)
