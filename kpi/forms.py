from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.fields import JapaneseDecimalField, JapaneseIntegerField

from .models import BarStatus, MeasureYear

ENTRY_FIELDS = [
    "kpi_actual",
    "kpi_actual_text",
    "actual_cost",
    "actual_general_fund",
    "actual_other_funds",
    "work_done",
    "judged_grade",
    "evaluation_comment",
    "improvement",
    "improvement_text",
]


class MeasureYearForm(forms.ModelForm):
    """Actuals (D), self-evaluation (C) and 改善方針 (A) of one measure in one year.

    ``seen_version`` carries the version the editor opened, so a save made
    after someone else's is refused instead of overwriting it.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = MeasureYear
        fields = ENTRY_FIELDS
        field_classes = {
            "kpi_actual": JapaneseDecimalField,
            "actual_cost": JapaneseIntegerField,
            "actual_general_fund": JapaneseIntegerField,
            "actual_other_funds": JapaneseIntegerField,
        }
        widgets = {
            "work_done": forms.Textarea(attrs={"rows": 3}),
            "evaluation_comment": forms.Textarea(attrs={"rows": 3}),
            "improvement_text": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, bars=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version if self.instance.pk else 0
        current = {}
        if self.instance.pk:
            current = {s.bar_id: s.state for s in self.instance.bar_statuses.all()}
        self.bars = list(bars)
        for bar in self.bars:
            self.fields[self.bar_field(bar)] = forms.ChoiceField(
                label=bar.label,
                choices=[("", "－")] + list(BarStatus.State.choices),
                required=False,
                initial=current.get(bar.pk, ""),
            )

    @staticmethod
    def bar_field(bar):
        return f"bar_{bar.pk}"

    def bar_fields(self):
        return [self[self.bar_field(bar)] for bar in self.bars]

    def bar_states(self):
        return {bar: self.cleaned_data.get(self.bar_field(bar)) or "" for bar in self.bars}


class GridRowForm(MeasureYearForm):
    """One row of the department grid: the figures and short texts only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.instance.measure.name
        for field in self.visible_fields():
            field.field.widget.attrs["aria-label"] = f"{name} {field.label}"

    class Meta(MeasureYearForm.Meta):
        fields = ["kpi_actual", "kpi_actual_text", "actual_cost", "work_done", "evaluation_comment", "improvement"]
        widgets = {
            "work_done": forms.Textarea(attrs={"rows": 2}),
            "evaluation_comment": forms.Textarea(attrs={"rows": 2}),
        }


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
