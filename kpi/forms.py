from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.fields import JapaneseDecimalField, JapaneseIntegerField

from .models import BarStatus, MeasureYear


class MeasureYearForm(forms.ModelForm):
    """Actuals (D), self-evaluation (C) and 改善方針 (A) of one measure in one year.

    ``seen_version`` carries the version the editor opened, so a save made
    after someone else's is refused instead of overwriting it.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = MeasureYear
        fields = MeasureYear.ENTRY_FIELDS
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

    def __init__(self, *args, bars=(), target=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version if self.instance.pk else 0
        self._fit_to_target(target)
        for name in ("judged_grade", "improvement"):
            if name in self.fields:
                self.fields[name].choices = [("", "選択してください"), *self.fields[name].choices[1:]]
        current = {}
        if self.instance.pk:
            current = {s.bar_id: s.state for s in self.instance.bar_statuses.all()}
        self.bars = list(bars)
        for bar in self.bars:
            self.fields[self.bar_field(bar)] = forms.ChoiceField(
                label=f"スケジュールの進捗：{bar.label}",
                choices=[("", "選択してください")] + list(BarStatus.State.choices),
                required=False,
                initial=current.get(bar.pk, ""),
            )

        if self.instance.is_locked:
            for field in self.fields.values():
                field.disabled = True  # shown, not editable: the year is approved

    def _fit_to_target(self, target):
        """Only the fields that make sense for this year's target, with hints for its shape."""
        kgi = getattr(self.instance.measure, "kgi", None)
        text_target = bool(target and target.text)
        if not text_target:
            self.fields.pop("judged_grade", None)  # a numeric target is graded from its 達成度
            if "kpi_actual_text" in self.fields and not self.instance.kpi_actual_text:
                self.fields.pop("kpi_actual_text")
        elif "kpi_actual" in self.fields and self.instance.kpi_actual is None:
            self.fields.pop("kpi_actual")
        if kgi and "kpi_actual" in self.fields:
            field = self.fields["kpi_actual"]
            if kgi.unit:
                field.label = f"{field.label}（{kgi.unit}）"
            if kgi.direction == "reduction":
                field.help_text = "導入前と比べて削減できた割合（%）を入力してください（例: 25%減なら 25）。"
            elif kgi.is_cumulative:
                field.help_text = "計画開始からの累計値を入力してください。"
            elif kgi.direction == "lower":
                field.help_text = "件数などの実績を入力してください（少ないほど良い指標です）。"

    @staticmethod
    def bar_field(bar):
        return f"bar_{bar.pk}"

    def bar_fields(self):
        return [self[self.bar_field(bar)] for bar in self.bars]

    FIELDSETS = (
        (
            "実績（Do）",
            ("kpi_actual", "kpi_actual_text", "actual_cost", "actual_general_fund", "actual_other_funds", "work_done"),
        ),
        ("評価（Check）", ("judged_grade", "evaluation_comment")),
        ("改善（Action）", ("improvement", "improvement_text")),
    )

    def fieldsets(self):
        """(legend, bound fields) for the entry page; the schedule progress belongs to 実績."""
        out = []
        for legend, names in self.FIELDSETS:
            fields = [self[name] for name in names if name in self.fields]
            if names[0] == "kpi_actual":
                fields += self.bar_fields()
            out.append((legend, fields))
        return out

    def bar_states(self):
        return {bar: self.cleaned_data.get(self.bar_field(bar)) or "" for bar in self.bars}


class GridRowForm(MeasureYearForm):
    """One row of the department grid: the figures and short texts only."""

    COLUMNS = ("actual_cost", "work_done", "evaluation_comment", "improvement")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One KPI column: a number, or a text where the target is a text. A field the grid does not
        # show must not be in the form, or saving would blank what was entered on the measure's page.
        kpi = "kpi_actual" if "kpi_actual" in self.fields else "kpi_actual_text"
        for name in list(self.fields):
            if name not in (kpi, "seen_version", *self.COLUMNS):
                del self.fields[name]
        self.kpi_name = kpi
        name = self.instance.measure.name
        for field in self.visible_fields():
            field.field.widget.attrs["aria-label"] = f"{name} {field.label}"

    def columns(self):
        """The grid's columns in order."""
        return [self[self.kpi_name], *(self[name] for name in self.COLUMNS)]

    class Meta(MeasureYearForm.Meta):
        fields = ["kpi_actual", "kpi_actual_text", "actual_cost", "work_done", "evaluation_comment", "improvement"]
        widgets = {
            "work_done": forms.Textarea(attrs={"rows": 2}),
            "evaluation_comment": forms.Textarea(attrs={"rows": 2}),
        }


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
