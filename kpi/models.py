"""KGI and yearly KPI targets of each 個別施策."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from initiatives.fiscal import NONE_MARK, format_number
from initiatives.models import fiscal_year_range_check

PERCENT = "%"


class Direction(models.TextChoices):
    HIGHER = "higher", _("高いほど良い")
    LOWER = "lower", _("低いほど良い")
    REDUCTION = "reduction", _("削減率（〇%減）")


class Kgi(models.Model):
    """数値目標（KGI）: the measure's goal for the whole plan period."""

    measure = models.OneToOneField(
        "initiatives.Measure", models.CASCADE, related_name="kgi", verbose_name=_("個別施策")
    )
    text = models.CharField(_("数値目標（計画の表記）"), max_length=300)
    indicator = models.CharField(_("指標"), max_length=200)
    target = models.DecimalField(
        _("目標値"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    target_text = models.CharField(_("目標（文章）"), max_length=200, blank=True)
    unit = models.CharField(_("単位"), max_length=20, blank=True)
    direction = models.CharField(_("評価の向き"), max_length=10, choices=Direction, default=Direction.HIGHER)
    is_cumulative = models.BooleanField(_("累計"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("数値目標（KGI）")
        verbose_name_plural = _("数値目標（KGI）")
        constraints = [
            models.CheckConstraint(
                condition=Q(target__isnull=True) | Q(target__gte=0),
                name="kgi_target_not_negative",
                violation_error_message=_("目標値に負の数は入力できません。"),
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def is_percent(self):
        return self.unit == PERCENT

    def clean(self):
        validate_percent(self.target, self.unit, "target")


def validate_percent(value, unit, field):
    if unit == PERCENT and value is not None and value > 100:
        raise ValidationError(
            {field: ValidationError(_("単位が%の値は100以下で入力してください。"), code="percent_over_100")}
        )


class KpiTarget(models.Model):
    """評価指標（KPI）の目標 for one fiscal year.

    A number, or a text target judged by staff, or neither: the plan's "－"
    (no target that year), which is not the same as 0.
    """

    measure = models.ForeignKey(
        "initiatives.Measure", models.CASCADE, related_name="kpi_targets", verbose_name=_("個別施策")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    value = models.DecimalField(
        _("目標値"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    text = models.CharField(_("目標（文章）"), max_length=200, blank=True)
    note = models.CharField(_("注記"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("評価指標（KPI）目標")
        verbose_name_plural = _("評価指標（KPI）目標")
        ordering = ["measure", "fiscal_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "fiscal_year"],
                name="kpi_target_one_per_year",
                violation_error_message=_("この施策のこの年度の目標は既にあります。"),
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0),
                name="kpi_target_not_negative",
                violation_error_message=_("目標値に負の数は入力できません。"),
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(text=""),
                name="kpi_target_number_or_text",
                violation_error_message=_("目標値と目標（文章）はどちらか一方を入力してください。"),
            ),
            fiscal_year_range_check("fiscal_year", "kpi_target_year_range"),
        ]

    def __str__(self):
        return f"{self.measure} {self.fiscal_year}"

    @property
    def is_none(self):
        return self.value is None and not self.text

    def display(self, unit=""):
        """'72.5%', '40手続', '導入を決定した全窓口', '－' — with the note in brackets."""
        if self.is_none:
            return NONE_MARK
        shown = self.text or f"{format_number(self.value)}{unit}"
        return f"{shown}（{self.note}）" if self.note else shown

    def clean(self):
        if self.measure_id:
            self.measure.plan.check_fiscal_year(self.fiscal_year)
            kgi = getattr(self.measure, "kgi", None)
            if kgi is not None:
                validate_percent(self.value, kgi.unit, "value")
