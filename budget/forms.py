from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.fields import JapaneseDateField, JapaneseDecimalField, JapaneseIntegerField, RefuseControlCharacters
from initiatives.fiscal import fiscal_year_label, format_amount
from initiatives.models import Department, PlanRevision
from kpi.forms import VersionedModelForm

from .chain import over_ceiling
from .models import FUNDING_FIELDS, BudgetFigure, FinalEvaluation, Hearing, HearingDecision


class DepartmentFilterForm(forms.Form):
    """A page's filter by one of the plan's departments (by code; optional)."""

    department = forms.ModelChoiceField(
        label=_("担当課"),
        queryset=Department.objects.none(),
        required=False,
        empty_label="すべて",
        to_field_name="code",
    )

    def __init__(self, data, plan):
        super().__init__(data)
        self.fields["department"].queryset = Department.objects.filter(measures__plan=plan).distinct().order_by("code")


class ReportFilterForm(DepartmentFilterForm):
    """The hearing report's filters: a department and a fiscal year (both optional)."""

    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)

    def __init__(self, data, plan):
        super().__init__(data, plan)
        self.fields["year"].choices = [("", "全年度")] + [(y, fiscal_year_label(y)) for y in plan.fiscal_years]


class ChainFilterForm(DepartmentFilterForm):
    """The money chain page's filters: a department, and only the measures with a flag."""

    flagged = forms.BooleanField(label=_("注意のある施策だけ"), required=False)


class BudgetFigureForm(RefuseControlCharacters, VersionedModelForm):
    """One stage's amount of a measure-year, with its funding sources (budget.models.funding_error)."""

    class Meta:
        model = BudgetFigure
        fields = ("amount", *FUNDING_FIELDS, "note")
        field_classes = {name: JapaneseIntegerField for name in ("amount", *FUNDING_FIELDS)}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, ceiling=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ceiling = ceiling
        self.fields["amount"].help_text = _("千円単位。「－」または空欄は「なし」。")
        if self.instance.stage == BudgetFigure.Stage.REQUEST:
            self.fields["note"].help_text = _("LCC（上限額）を超える要求には、その理由を書いてください。")

    def clean(self):
        data = super().clean()
        if (
            self.instance.stage == BudgetFigure.Stage.REQUEST
            and over_ceiling(data.get("amount"), self.ceiling)
            and not (data.get("note") or "").strip()
        ):
            self.add_error(
                "note",
                forms.ValidationError(
                    _("予算要求額がLCC（投資可能な上限額：%(ceiling)s）を超えています。超える理由を書いてください。"),
                    code="over_ceiling_reason",
                    params={"ceiling": format_amount(self.ceiling) + ("千円" if self.ceiling is not None else "")},
                ),
            )
        return data


class HearingForm(RefuseControlCharacters, VersionedModelForm):
    """A department's 予算ヒアリング: its date and a note."""

    class Meta:
        model = Hearing
        fields = ("held_on", "note")
        field_classes = {"held_on": JapaneseDateField}
        widgets = {"held_on": forms.DateInput(attrs={"type": "date"}), "note": forms.Textarea(attrs={"rows": 2})}
        error_messages = {"held_on": {"invalid": _("実施日は 2025-11-05 や 2025/11/05 の形で入力してください。")}}


class HearingDecisionForm(RefuseControlCharacters, VersionedModelForm):
    """The hearing's 確認・評価 and decision for one measure."""

    class Meta:
        model = HearingDecision
        fields = ("evaluation", "decision", "decision_text")
        widgets = {
            "evaluation": forms.Textarea(attrs={"rows": 4}),
            "decision_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [("", "選択してください"), *self.fields["decision"].choices[1:]]


class FinalEvaluationForm(RefuseControlCharacters, VersionedModelForm):
    """A measure's 計画期間の総括 and its carry-over to the next plan."""

    class Meta:
        model = FinalEvaluation
        fields = ("carry_over", "comment")
        widgets = {"comment": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carry_over"].choices = [("", "選択してください"), *self.fields["carry_over"].choices[1:]]


class PlanRevisionForm(RefuseControlCharacters, forms.ModelForm):
    """A new 計画の見直し: when, where it was decided, and why."""

    class Meta:
        model = PlanRevision
        fields = ("decided_on", "decided_by", "reason")
        field_classes = {"decided_on": JapaneseDateField}
        widgets = {"decided_on": forms.DateInput(attrs={"type": "date"}), "reason": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"decided_on": {"invalid": _("決定日は 2025-11-05 や 2025/11/05 の形で入力してください。")}}


class MeasureRevisionForm(RefuseControlCharacters, forms.Form):
    """A measure's KPI target and LCC of each plan year, as a revision changes them.

    ``seen`` carries the rows as the page showed them, so that kpi.workflow.revise_plan_row refuses a
    change made over someone else's."""

    seen = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, data, years, targets, costs, seen):
        super().__init__(data, initial={"seen": seen})
        self.years = years
        for year in years:
            target, cost = targets.get(year), costs.get(year)
            label = fiscal_year_label(year)
            if target and target.text:
                self.fields[f"target_text_{year}"] = forms.CharField(
                    label=f"{label} KPI目標（文章）", max_length=200, required=False, initial=target.text
                )
            else:
                self.fields[f"target_value_{year}"] = JapaneseDecimalField(
                    label=f"{label} KPI目標",
                    required=False,
                    max_digits=14,
                    decimal_places=2,
                    initial=target.value if target else None,
                )
            self.fields[f"cost_{year}"] = JapaneseIntegerField(
                label=f"{label} LCC（千円）", required=False, initial=cost.amount if cost else None
            )

    def year_fields(self):
        """[(year, KPI target field, LCC field)] for the template."""
        out = []
        for year in self.years:
            target = f"target_text_{year}" if f"target_text_{year}" in self.fields else f"target_value_{year}"
            out.append((year, self[target], self[f"cost_{year}"]))
        return out


class NextPlanForm(RefuseControlCharacters, forms.Form):
    """What the next plan (次期計画) is called and when it runs; budget.next_plan drafts it."""

    code = forms.SlugField(
        label=_("計画コード"), max_length=40, help_text=_("URLや取込で使う識別子（半角英数字とハイフン）")
    )
    title = forms.CharField(label=_("計画名"), max_length=200)
    start_year = JapaneseIntegerField(label=_("計画期間（開始年度・西暦）"), min_value=2000, max_value=2100)
    end_year = JapaneseIntegerField(label=_("計画期間（終了年度・西暦）"), min_value=2000, max_value=2100)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_year"), data.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("計画期間の終了年度は開始年度以降にしてください。"))
        return data
