from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.formsets import BaseFormSet
from django.forms.models import BaseModelFormSet, modelformset_factory
from django.utils.translation import gettext_lazy as _

from initiatives.fields import NEGATIVE_MESSAGE, JapaneseDecimalField, JapaneseIntegerField, RefuseControlCharacters

from .achievement import scale_of
from .models import PERCENT, BarStatus, ExternalReview, InterimReview, MeasureYear, kpi_text


def seen_version_field(**kwargs):
    """The version of a record as the page showed it (kpi.workflow refuses a save from another version)."""
    return forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={"invalid": _("画面の情報が正しくありません。画面を開き直してください。")},
        **kwargs,
    )


class VersionedModelForm(forms.ModelForm):
    """A ModelForm for a row with a ``version``: ``seen_version`` carries the version the page showed
    (kpi.workflow refuses a save from any other; 0 for a row not saved yet)."""

    seen_version = seen_version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version if self.instance.pk else 0


class MeasureYearForm(RefuseControlCharacters, VersionedModelForm):
    """Actuals (D), self-evaluation (C) and 改善方針 (A) of one measure in one year.

    ``seen_version`` (VersionedModelForm) carries the version the editor opened, so a save made
    after someone else's is refused instead of overwriting it.
    """

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

    def __init__(self, *args, bars=(), target=None, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._fit_to_target(target)
        self.indicators = list(indicators)  # [(Indicator, its IndicatorYear of the year or None)]
        for indicator, row in self.indicators:
            self.fields[self.indicator_field(indicator)] = self._indicator_field(indicator, row)
        for name in ("judged_grade", "improvement"):
            if name in self.fields:
                self.fields[name].choices = [("", "選択してください"), *self.fields[name].choices[1:]]
        self.bars = list(bars)
        current = {}
        if self.instance.pk and self.bars:  # the grid shows no bars: no query per row
            current = {s.bar_id: s.state for s in self.instance.bar_statuses.all()}
        for bar in self.bars:
            self.fields[self.bar_field(bar)] = forms.ChoiceField(
                label=f"スケジュールの進捗：{bar.label}",
                choices=[("", "選択してください")] + list(BarStatus.State.choices),
                required=False,
                initial=current.get(bar.pk, ""),
            )

        if self.instance.is_locked and not self.is_bound:
            for field in self.fields.values():
                # Shown, not editable: the year is approved. A posted form stays live, so that a
                # change to a locked year is refused by kpi.workflow with a message, not ignored.
                field.disabled = True

    def _update_errors(self, errors):
        """A model rule about a field this form does not show (the grid has no 財源 columns) is shown
        above the row instead of failing: ModelForm would raise ValueError for the unknown field."""
        if hasattr(errors, "error_dict"):
            shown = {}
            for name, messages in errors.error_dict.items():
                if name not in self.fields and name != NON_FIELD_ERRORS:
                    label = MeasureYear._meta.get_field(name).verbose_name
                    messages = [ValidationError(f"{label}：{m.message % (m.params or {})}") for m in messages]
                    name = NON_FIELD_ERRORS
                shown.setdefault(name, []).extend(messages)
            errors = ValidationError(shown)
        super()._update_errors(errors)

    def _fit_to_target(self, target):
        """Only the fields that make sense for this year's target, with hints for its shape."""
        kgi = getattr(self.instance.measure, "kgi", None)
        text_target = bool(target and target.text)
        plan = self.instance.measure.plan
        if not text_target and plan.grades_by_rate:
            self.fields.pop("judged_grade", None)  # a numeric target is graded from its 達成度
        if "judged_grade" in self.fields:  # the 担当課 chooses one of the plan's own grades
            scale = scale_of(plan)
            field = self.fields["judged_grade"]
            if not plan.grades_by_rate:  # every target is judged on progress
                field.label = "評価（進捗の判定）"
                field.help_text = "判定の理由を「評価・要因分析」に書いてください。DX推進部門の承認で確定します。"
            field.choices = [("", "選択してください")] + [
                (g.letter, f"{g.letter}：{g.label}" if g.label else g.letter) for g in scale.grades
            ]
        if not text_target:
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
                fields += self.indicator_fields() + self.bar_fields()
            out.append((legend, fields))
        return out

    def bar_states(self):
        return {bar: self.cleaned_data.get(self.bar_field(bar)) or "" for bar in self.bars}

    @staticmethod
    def indicator_field(indicator):
        return f"indicator_{indicator.pk}"

    @staticmethod
    def _indicator_field(indicator, row):
        """The actual of one more indicator: a text where its target is a text, else a number in its unit."""
        target = row.target_text if row and row.target_text else None
        label = f"{indicator.name}の実績" + (f"（{indicator.unit}）" if indicator.unit and not target else "")
        if target:
            initial = row.actual_text if row else ""
            return forms.CharField(
                label=label, max_length=200, required=False, initial=initial, help_text=f"目標：{target}"
            )
        field = JapaneseDecimalField(
            label=label, required=False, max_digits=14, decimal_places=2, initial=row.actual_value if row else None
        )
        if row and row.target_value is not None:
            field.help_text = (
                f"目標：{kpi_text(row.target_value, '', unit=indicator.unit, direction=indicator.direction)}"
            )
        return field

    def indicator_fields(self):
        return [self[self.indicator_field(indicator)] for indicator, _row in self.indicators]

    def clean(self):
        cleaned = super().clean()
        for indicator, _row in self.indicators:
            name = self.indicator_field(indicator)
            value = cleaned.get(name)
            if isinstance(value, Decimal):
                if value < 0:
                    self.add_error(name, NEGATIVE_MESSAGE)
                elif indicator.unit == PERCENT and value > 100:
                    self.add_error(name, "割合（%）は100以下で入力してください。")
        return cleaned

    def indicator_actuals(self):
        """{Indicator: (number or None, text)} as entered, for kpi.workflow.save_record."""
        out = {}
        for indicator, _row in self.indicators:
            value = self.cleaned_data.get(self.indicator_field(indicator))
            out[indicator] = (value, "") if not isinstance(value, str) else (None, value.strip())
        return out


class GridRowForm(MeasureYearForm):
    """One row of the department grid: the figures and short texts only."""

    COLUMNS = ("actual_cost", "work_done", "evaluation_comment", "improvement")

    # Which measure the row was drawn for: rows are matched by position, so a grid opened before a
    # measure was added or moved must not write one measure's figures onto another.
    row_measure = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["row_measure"].initial = self.instance.measure_id
        # One KPI column: a number, or a text where the target is a text. A field the grid does not
        # show must not be in the form, or saving would blank what was entered on the measure's page.
        kpi = "kpi_actual" if "kpi_actual" in self.fields else "kpi_actual_text"
        for name in list(self.fields):
            if name not in (kpi, "seen_version", "row_measure", *self.COLUMNS):
                del self.fields[name]
        self.kpi_name = kpi
        name = self.instance.measure.name
        for field in self.visible_fields():
            field.field.widget.attrs["aria-label"] = f"{name} {field.label}"

    def columns(self):
        """The grid's columns in order."""
        return [self[self.kpi_name], *(self[name] for name in self.COLUMNS)]

    def clean_row_measure(self):
        if self.cleaned_data["row_measure"] != self.instance.measure_id:
            raise ValidationError(
                _("この画面を開いた後に課の施策が変わりました。画面を開き直してから入力してください。"),
                code="rows_changed",
            )
        return self.cleaned_data["row_measure"]

    class Meta(MeasureYearForm.Meta):
        fields = ["kpi_actual", "kpi_actual_text", "actual_cost", "work_done", "evaluation_comment", "improvement"]
        widgets = {
            "work_done": forms.Textarea(attrs={"rows": 2}),
            "evaluation_comment": forms.Textarea(attrs={"rows": 2}),
        }


class CommentForm(RefuseControlCharacters, forms.Form):
    comment = forms.CharField(label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    seen_version = seen_version_field()


class BaseGridFormSet(BaseModelFormSet):
    """The department grid: one GridRowForm per measure, bound to its record of the year (a new,
    unsaved one where none exists yet). The rows are given, not queried: the page makes the same
    queries for 3 measures as for 3,000, and saving goes through kpi.workflow.save_rows."""

    def __init__(self, data=None, *, records, targets, **kwargs):
        self.records, self.targets = records, targets
        super().__init__(data, queryset=MeasureYear.objects.none(), **kwargs)

    def initial_form_count(self):
        return len(self.records)

    def total_form_count(self):
        return len(self.records)

    def get_form_kwargs(self, index):
        record = self.records[index]
        return {"instance": record, "target": self.targets.get(record.measure_id)}

    def _construct_form(self, i, **kwargs):
        return BaseFormSet._construct_form(self, i, **kwargs)  # the instance is given, never looked up

    def add_fields(self, form, index):
        BaseFormSet.add_fields(self, form, index)  # no hidden primary key: the row knows its record

    def changed_forms(self):
        return [form for form in self.forms if form.has_changed()]


GridFormSet = modelformset_factory(
    MeasureYear, form=GridRowForm, formset=BaseGridFormSet, fields=GridRowForm.Meta.fields, extra=0
)


class BulkApproveForm(forms.Form):
    """The submitted records the approver ticked, each with the version shown on screen.

    Only records on the list may be chosen, so any other id (one too large for the database
    included) is a form error, never a query.
    """

    records = forms.MultipleChoiceField(
        label=_("承認する施策"),
        error_messages={
            "required": _("承認する施策を選んでください。"),
            "invalid_choice": _("選んだ施策は承認待ちではありません。画面を開き直してください。"),
        },
    )

    def __init__(self, data, submitted):
        super().__init__({"records": data.getlist("record"), **{k: v for k, v in data.items() if k != "record"}})
        self.submitted = submitted  # the plan-year's submitted records (a queryset)
        pks = list(submitted.values_list("pk", flat=True))
        self.fields["records"].choices = [(str(pk), pk) for pk in pks]
        for pk in pks:
            self.fields[f"version-{pk}"] = seen_version_field(required=False)

    def clean_records(self):
        return list(self.submitted.filter(pk__in=[int(pk) for pk in self.cleaned_data["records"]]))

    def seen_versions(self):
        """{record id: version seen}; a record shown without its version counts as stale (-1)."""
        versions = {r.pk: self.cleaned_data.get(f"version-{r.pk}") for r in self.cleaned_data["records"]}
        return {pk: -1 if seen is None else seen for pk, seen in versions.items()}


class PublishForm(forms.Form):
    """公表 of a plan's year (kpi.publishing.publish): the licence and which approved 改善方針 are public."""

    seen_version = seen_version_field()
    licence = forms.CharField(label=_("利用条件（ライセンス）"), max_length=100)
    licence_url = forms.URLField(label=_("利用条件のURL"), max_length=200, assume_scheme="https")
    improvements = forms.ModelMultipleChoiceField(
        label=_("公表する改善方針"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("承認済みの改善方針のうち、公開ページとオープンデータに載せるものを選びます。"),
    )

    def __init__(self, *args, improvements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["improvements"].queryset = improvements
        self.fields["improvements"].label_from_instance = lambda m: f"{m.code} {m.name}"


class ExternalReviewForm(RefuseControlCharacters, forms.ModelForm):
    """外部評価 of a plan's year: the period (the plan's own), who, on what (a measure code, or the whole plan)."""

    measure_code = forms.CharField(
        label=_("対象の施策コード"), max_length=40, required=False, help_text=_("空欄なら計画全体への意見")
    )

    class Meta:
        model = ExternalReview
        fields = ["period", "reviewer", "comment", "is_public"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, plan, year, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = self.instance.plan = plan
        self.instance.fiscal_year = year
        labels = dict(ExternalReview._meta.get_field("period").choices)
        self.fields["period"].choices = [(p, labels[p]) for p in plan.review_periods]
        self.fields["period"].required = plan.half_yearly

    def clean_measure_code(self):
        code = self.cleaned_data["measure_code"].strip()
        if not code:
            self.instance.measure = None
            return code
        measure = self.plan.measures.filter(code=code).first()
        if measure is None:
            raise ValidationError(_("この計画に施策コード「%(code)s」はありません。"), params={"code": code})
        self.instance.measure = measure
        return code


class InterimReviewForm(RefuseControlCharacters, VersionedModelForm):
    """The 担当課's 上期 report of one measure (kpi.models.InterimReview): progress so far and its judgement on
    the plan's own grades, with a reason."""

    class Meta:
        model = InterimReview
        fields = InterimReview.ENTRY_FIELDS
        widgets = {"progress": forms.Textarea(attrs={"rows": 4}), "reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scale = scale_of(self.instance.measure.plan)
        self.fields["judged_grade"].choices = [("", "選択してください")] + [
            (g.letter, f"{g.letter}：{g.label}" if g.label else g.letter) for g in scale.grades
        ]
        if self.instance.is_confirmed and not self.is_bound:
            for field in self.fields.values():
                field.disabled = True
