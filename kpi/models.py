"""KGI and yearly KPI targets of each 個別施策."""

import functools
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.functions import Cast, Round
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from initiatives.fiscal import NONE_MARK, fiscal_year_label, format_number, period_label
from initiatives.models import (
    by_year_index,
    fiscal_year_range_check,
    not_negative,
    per_measure_year,
    plan_of,
    related_or_none,
)

PERCENT = "%"


def in_hundredths(name):
    """A stored copy of a two-decimal value as a whole number of hundredths, kept by the database itself:
    the SQL form of 達成度 (kpi.achievement.RateTenths) works on it in integer arithmetic instead of
    converting each decimal again wherever the rule uses it. Left out of the history (it is the value)."""
    return models.GeneratedField(
        expression=Cast(Round(F(name) * Value(100)), BigIntegerField()),
        output_field=BigIntegerField(null=True),
        db_persist=True,
        verbose_name=_("百分の一の単位"),
    )


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

    def clean(self):
        validate_percent(self.target, self.unit, "target")

    def target_display(self):
        return kpi_text(self.target, self.target_text, **kgi_shape(self))


def kgi_shape(kgi):
    """The unit and direction kpi_text reads a measure's KPI values in (none without a KGI)."""
    return {"unit": kgi.unit, "direction": kgi.direction} if kgi else {}


class KpiText(str):
    """A KPI value as it reads ('30%減'), carrying for a workbook the number and a number format that reads
    the same (30 with 0"%減"), so the cell stays a number. ``number`` is None for a text value or "－"."""

    number = None
    number_format = ""
    is_none = False


# An Excel number format holds at most 255 characters; a longer one (a long note) is written as text.
MAX_NUMBER_FORMAT = 255


def kpi_text(value, text="", unit="", note="", *, direction=Direction.HIGHER, actual=False):
    """How a KPI target or actual (or a KGI target) reads, everywhere: pages, reports, workbooks, CSV, API.

    - a number with its unit: '72.5%', '40手続', '98,500件';
    - 削減率 (Direction.REDUCTION): the plan prints the reduction, '30%減', for targets and actuals alike
      (an actual of 25 is '25%減', the reduction achieved);
    - 低いほど良い (Direction.LOWER): a target above 0 is a ceiling, '5件以下' (kpi.achievement rates an
      actual at or under it 100%); a 0 target reads '0件' as the plan prints it (nothing is below 0);
      an actual is the count itself;
    - a text target as written ('導入を決定した全窓口'); none at all is '－';
    - the plan's note in brackets: '1業務（※2）', '1窓口（試行）'.
    """
    if value is None and not text:
        shown = KpiText(NONE_MARK)
        shown.is_none = True
        return shown
    bracket = f"（{note}）" if note else ""
    if text:
        return KpiText(f"{text}{bracket}")
    suffix = unit
    if direction == Direction.REDUCTION:
        suffix += "減"
    elif direction == Direction.LOWER and not actual and value > 0:
        suffix += "以下"
    suffix += bracket
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    shown = KpiText(f"{format_number(number)}{suffix}")
    if number == number.to_integral_value():
        decimals, number = 0, int(number)
    else:
        number = number.normalize()
        decimals, number = -number.as_tuple().exponent, float(number)
    number_format = _number_format(decimals, suffix)
    if number_format is not None:
        shown.number, shown.number_format = number, number_format
    return shown


@functools.lru_cache(maxsize=4096)
def _number_format(decimals, suffix):
    """The Excel number format of a KPI value with that many decimals and that suffix (None if Excel cannot
    hold it). A plan has a few units, so each format is made once, not once per cell."""
    number_format = ("#,##0." + "0" * decimals if decimals else "#,##0") + _format_literal(suffix)
    return number_format if len(number_format) <= MAX_NUMBER_FORMAT else None


def _format_literal(text):
    """Text as a literal of an Excel number format: quoted (an unquoted % would scale the number by 100), a quote
    inside closed, written as a backslashed quote and reopened."""
    return '"' + text.replace('"', '"\\""') + '"' if text else ""


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
    value_hundredths = in_hundredths("value")

    history = HistoricalRecords(excluded_fields=["value_hundredths"])

    class Meta:
        verbose_name = _("評価指標（KPI）目標")
        verbose_name_plural = _("評価指標（KPI）目標")
        ordering = ["measure", "fiscal_year"]
        indexes = [by_year_index("kpi_target")]
        constraints = [
            *per_measure_year("kpi_target", "目標"),
            not_negative("kpi_target_not_negative", _("目標値に負の数は入力できません。"), "value"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(text=""),
                name="kpi_target_number_or_text",
                violation_error_message=_("目標値と目標（文章）はどちらか一方を入力してください。"),
            ),
        ]

    def __str__(self):
        return fiscal_year_label(self.fiscal_year)  # no measure lookup: admin inlines list many

    @property
    def is_none(self):
        return no_target(self.value, self.text)

    def display(self, kgi=None):
        """kpi_text for this target, in the unit and shape of the measure's KGI."""
        return kpi_text(self.value, self.text, **kgi_shape(kgi), note=self.note)

    def clean(self):
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.fiscal_year)
            kgi = related_or_none(self.measure, "kgi")
            if kgi is not None:
                validate_percent(self.value, kgi.unit, "value")


class Grade(models.TextChoices):
    S = "S", "S"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class GradeColour(models.TextChoices):
    """The colours a grade may be shown in (portal.css has a class for each; no inline style under the CSP)."""

    GREEN = "green", _("緑")
    TEAL = "teal", _("青緑")
    BLUE = "blue", _("青")
    YELLOW = "yellow", _("黄")
    ORANGE = "orange", _("橙")
    RED = "red", _("赤")
    GREY = "grey", _("灰")


class GradeThreshold(models.Model):
    """One grade of the plan's grading scheme (評価の区分): its letter, what it means, its colour, whether it
    needs a look, and for a plan graded by 達成度 (Plan.grading_rule "rate") the 達成度 (%) it starts at.

    Editable per plan by the DX推進部門; kpi.achievement.DEFAULT_THRESHOLDS applies to a plan that has none.
    A plan graded by progress judgement (Plan.grading_rule "judgement", e.g. 浜松市's A–D) leaves min_rate empty:
    the 担当課 chooses the grade with a reason, and the approval confirms it.
    """

    plan = models.ForeignKey(
        "initiatives.Plan", models.CASCADE, related_name="grade_thresholds", verbose_name=_("計画")
    )
    grade = models.CharField(_("評価"), max_length=1, choices=Grade)
    min_rate = models.DecimalField(
        _("達成度の下限（%）"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("達成度で判定する計画のみ。進捗を判定する計画では空欄"),
    )
    label = models.CharField(_("意味"), max_length=100, blank=True, help_text=_("例: 目標より進んでいる"))
    colour = models.CharField(_("色"), max_length=10, choices=GradeColour, blank=True)
    needs_attention = models.BooleanField(
        _("要確認とする"), default=False, help_text=_("ダッシュボードの要確認に数えます")
    )
    position = models.PositiveSmallIntegerField(
        _("表示順"), default=0, help_text=_("進捗を判定する計画で、良い評価から順に。達成度の計画は下限の高い順です。")
    )

    class Meta:
        verbose_name = _("評価の区分")
        verbose_name_plural = _("評価の区分")
        ordering = ["plan", "position", "-min_rate"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "grade"],
                name="grade_threshold_unique",
                violation_error_message=_("同じ評価が重複しています。"),
            ),
            models.CheckConstraint(
                condition=Q(min_rate__isnull=True) | Q(min_rate__gte=0),
                name="grade_threshold_not_negative",
                violation_error_message=_("下限に負の数は入力できません。"),
            ),
        ]

    def __str__(self):
        if self.min_rate is None:
            return f"{self.grade}: {self.label}"
        return f"{self.grade}: {self.min_rate}%以上"

    def clean(self):
        plan = related_or_none(self, "plan")
        if plan is None:
            return
        if plan.grades_by_rate and self.min_rate is None:
            raise ValidationError({"min_rate": _("達成度で判定する計画です。下限を入力してください。")})
        if not plan.grades_by_rate and self.min_rate is not None:
            raise ValidationError({"min_rate": _("進捗を判定する計画です。下限は空欄にしてください。")})


def no_target(value, text):
    """The plan's "－" for a year's KPI target: neither a number nor a text (not the same as 0)."""
    return value is None and not text


def has_actuals(kpi_actual, kpi_actual_text, actual_cost, work_done):
    """Has anything of D (実績) been entered?"""
    return kpi_actual is not None or bool(kpi_actual_text) or actual_cost is not None or bool(work_done)


def actuals_entered(prefix=""):
    """has_actuals() as a query filter on MeasureYear (or on a relation to it, with ``prefix``)."""
    # "> ''" rather than "not = ''": false, not true, where a left join found no record (NULL)
    return (
        Q(**{f"{prefix}kpi_actual__isnull": False})
        | Q(**{f"{prefix}kpi_actual_text__gt": ""})
        | Q(**{f"{prefix}actual_cost__isnull": False})
        | Q(**{f"{prefix}work_done__gt": ""})
    )


def pdca_stage(actuals_entered, evaluation_comment, improvement):
    """PDCA stage reached: P (targets only), D (actuals), C (evaluated), A (改善方針 decided)."""
    if improvement:
        return "A"
    if evaluation_comment:
        return "C"
    if actuals_entered:
        return "D"
    return "P"


def pdca_stage_sql(prefix=""):
    """pdca_stage() as an SQL expression on MeasureYear (or a relation to it, with ``prefix``)."""
    return Case(
        When(**{f"{prefix}improvement__gt": ""}, then=Value("A")),
        When(**{f"{prefix}evaluation_comment__gt": ""}, then=Value("C")),
        When(actuals_entered(prefix), then=Value("D")),
        default=Value("P"),
        output_field=models.CharField(),
    )


class MeasureYear(models.Model):
    """One measure in one fiscal year: the PDCA record.

    P is the plan's targets (KpiTarget, PlannedCost); this row holds D (actuals),
    C (self-evaluation) and A (改善方針), and the approval that locks the year.
    ``version`` makes a save conditional on what the editor saw (no lost updates).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("入力中")
        SUBMITTED = "submitted", _("提出済み")
        RETURNED = "returned", _("差戻し")
        APPROVED = "approved", _("承認済み")

    # The fields a department enters (D, C and A); forms and the history list use the same list.
    ENTRY_FIELDS = (
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
    )

    class Improvement(models.TextChoices):
        CONTINUE = "continue", _("継続")
        EXPAND = "expand", _("拡充")
        REVISE = "revise", _("見直し")
        COMPLETE = "complete", _("完了")
        ABOLISH = "abolish", _("廃止")

    # PROTECT: a measure (or its initiative or policy) cannot be deleted while it has yearly records.
    measure = models.ForeignKey("initiatives.Measure", models.PROTECT, related_name="years", verbose_name=_("個別施策"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    # D: 実績
    kpi_actual = models.DecimalField(
        _("KPI実績値"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    kpi_actual_text = models.CharField(_("KPI実績（文章）"), max_length=200, blank=True)
    actual_cost = models.BigIntegerField(_("決算額（千円）"), null=True, blank=True, validators=[MinValueValidator(0)])
    actual_general_fund = models.BigIntegerField(
        _("うち一般財源（千円）"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    actual_other_funds = models.BigIntegerField(
        _("うちその他財源（千円）"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    work_done = models.TextField(_("実施内容"), max_length=2000, blank=True)
    # C: 自己評価
    judged_grade = models.CharField(
        _("評価（文章目標の判定）"),
        max_length=1,
        choices=Grade,
        blank=True,
        help_text=_("目標が文章の場合のみ、担当課が判定します。"),
    )
    evaluation_comment = models.TextField(_("評価・要因分析"), max_length=2000, blank=True)
    # A: 改善方針
    improvement = models.CharField(_("改善方針"), max_length=10, choices=Improvement, blank=True)
    improvement_text = models.TextField(_("改善方針の内容"), max_length=2000, blank=True)
    # Workflow
    status = models.CharField(_("状態"), max_length=10, choices=Status, default=Status.DRAFT)
    return_comment = models.TextField(_("差戻し理由"), max_length=2000, blank=True)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    approved_at = models.DateTimeField(_("承認日時"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("承認者")
    )
    version = models.PositiveIntegerField(_("版"), default=1)
    is_sample = models.BooleanField(_("サンプル"), default=False, help_text=_("デモ用の架空の実績です。"))
    kpi_actual_hundredths = in_hundredths("kpi_actual")

    history = HistoricalRecords(excluded_fields=["kpi_actual_hundredths"])

    class Meta:
        verbose_name = _("年度実績・評価")
        verbose_name_plural = _("年度実績・評価")
        ordering = ["measure", "fiscal_year"]
        indexes = [by_year_index("measure_year")]
        constraints = [
            *per_measure_year("measure_year", "実績"),
            not_negative("measure_year_kpi_not_negative", _("実績値に負の数は入力できません。"), "kpi_actual"),
            not_negative(
                "measure_year_amounts_not_negative",
                _("金額に負の数は入力できません。"),
                "actual_cost",
                "actual_general_fund",
                "actual_other_funds",
            ),
        ]

    def __str__(self):
        return f"{self.measure} {self.fiscal_year}"

    @property
    def is_locked(self):
        """The lock: an approved year. kpi.workflow and the database (kpi/db.py) enforce it."""
        return self.status == self.Status.APPROVED

    @property
    def awaits_approval(self):
        return self.status == self.Status.SUBMITTED

    @property
    def has_actuals(self):
        return has_actuals(self.kpi_actual, self.kpi_actual_text, self.actual_cost, self.work_done)

    @property
    def stage(self):
        return pdca_stage(self.has_actuals, self.evaluation_comment, self.improvement)

    def actual_display(self, kgi=None):
        """kpi_text for this year's actual, in the unit and shape of the measure's KGI."""
        return kpi_text(self.kpi_actual, self.kpi_actual_text, **kgi_shape(kgi), actual=True)

    def clean(self):
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.fiscal_year)
            kgi = related_or_none(self.measure, "kgi")
            if kgi is not None:
                validate_percent(self.kpi_actual, kgi.unit, "kpi_actual")
        if self.judged_grade and not self.evaluation_comment.strip():
            raise ValidationError(
                {"evaluation_comment": ValidationError(_("判定の理由を入力してください。"), code="reason_required")}
            )
        if self.kpi_actual is not None and self.kpi_actual_text:
            raise ValidationError(
                {
                    "kpi_actual_text": ValidationError(
                        _("実績は数値か文章のどちらか一方を入力してください。"), code="both"
                    )
                }
            )
        if self.actual_cost is not None:
            funds = [f for f in (self.actual_general_fund, self.actual_other_funds) if f is not None]
            if sum(funds) > self.actual_cost:
                raise ValidationError(
                    {
                        "actual_general_fund": ValidationError(
                            _("財源の内訳が決算額を超えています。"), code="funds_over_cost"
                        )
                    }
                )
        elif self.actual_general_fund is not None or self.actual_other_funds is not None:
            raise ValidationError(
                {
                    "actual_cost": ValidationError(
                        _("財源の内訳を入れる場合は決算額も入力してください。"), code="cost_missing"
                    )
                }
            )


class BarStatus(models.Model):
    """進捗 of one schedule bar in one fiscal year."""

    class State(models.TextChoices):
        NOT_STARTED = "not_started", _("未着手")
        IN_PROGRESS = "in_progress", _("実施中")
        DONE = "done", _("完了")
        DELAYED = "delayed", _("遅延")

    measure_year = models.ForeignKey(
        MeasureYear, models.CASCADE, related_name="bar_statuses", verbose_name=_("年度実績")
    )
    # PROTECT: a schedule bar with reported progress cannot be deleted (clear the progress first).
    bar = models.ForeignKey(
        "initiatives.ScheduleBar", models.PROTECT, related_name="statuses", verbose_name=_("スケジュール")
    )
    state = models.CharField(_("進捗"), max_length=12, choices=State)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("スケジュールの進捗")
        verbose_name_plural = _("スケジュールの進捗")
        constraints = [
            models.UniqueConstraint(
                fields=["measure_year", "bar"],
                name="bar_status_unique",
                violation_error_message=_("同じ項目の進捗が重複しています。"),
            )
        ]

    def __str__(self):
        return f"{self.bar} {self.get_state_display()}"


class PendingUpload(models.Model):
    """An actuals upload checked by the preview and waiting for its confirm (kpi.views_transfer).

    In the database rather than on one server's disk, so that the confirm may reach any instance
    behind the same address. Only the session that previewed it holds the token; a row older than a
    session (SESSION_COOKIE_AGE) is removed by the next preview.
    """

    token = models.CharField(_("トークン"), max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("利用者"))
    plan = models.ForeignKey("initiatives.Plan", models.CASCADE, related_name="+", verbose_name=_("計画"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    filename = models.CharField(_("ファイル名"), max_length=255)
    digest = models.CharField(_("SHA-256"), max_length=64)
    payload = models.TextField(_("確認済みの変更（JSON）"))
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("確認中の取込")
        verbose_name_plural = _("確認中の取込")

    def __str__(self):
        return f"{self.filename}（{fiscal_year_label(self.fiscal_year)}）"


# A year's review periods (initiatives.fiscal.PERIODS): the year; with the 上期 (what has a deadline or is published
# of its own); with both halves (what an outside reviewer comments on).
HALF = [("", _("年度")), ("H1", _("上期"))]
HALVES = [*HALF, ("H2", _("下期"))]


def period_field(choices, **kwargs):
    return models.CharField(_("期"), max_length=2, blank=True, choices=choices, **kwargs)


class EntryDeadline(models.Model):
    """入力期限 of a plan's year: by when the 担当課 enter and submit that year's actuals and self-evaluation.
    kpi.reminders reminds them before and after it; the dashboard shows the days left."""

    plan = models.ForeignKey("initiatives.Plan", models.CASCADE, related_name="entry_deadlines", verbose_name=_("計画"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    period = period_field(HALF, help_text=_("半期ごとに確認する計画の上期の進捗の期限は「上期」"))
    due_on = models.DateField(_("入力期限"))
    remind_from = models.PositiveSmallIntegerField(
        _("何日前から知らせるか"), default=14, help_text=_("期限のこの日数前から、毎日1回まで知らせます。")
    )
    remind_after = models.PositiveSmallIntegerField(
        _("期限後何日まで知らせるか"),
        default=30,
        help_text=_("期限を過ぎても入力・提出のない施策を、この日数まで知らせます。"),
    )

    class Meta:
        verbose_name = _("入力期限")
        verbose_name_plural = _("入力期限")
        ordering = ["plan", "fiscal_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "fiscal_year", "period"],
                name="entry_deadline_once_per_period",
                violation_error_message=_("この計画のこの期の入力期限はもうあります。"),
            )
        ]

    def __str__(self):
        return f"{self.plan} {self.period_label} {self.due_on:%Y-%m-%d}"

    @property
    def period_label(self):
        return period_label(self.fiscal_year, self.period)

    def clean(self):
        if self.plan_id and not self.plan.covers(self.fiscal_year):
            raise ValidationError({"fiscal_year": _("計画期間の年度を入力してください。")})
        if self.plan_id and self.period and not self.plan.half_yearly:
            raise ValidationError({"period": _("この計画は半期ごとに進捗を確認する計画ではありません。")})

    def days_left(self, today):
        """Days until the deadline (0 on the day, negative once it has passed)."""
        return (self.due_on - today).days

    def when(self, today):
        """The days left as the dashboard and the reminders say it."""
        left = self.days_left(today)
        return f"あと{left}日" if left > 0 else "本日が期限" if left == 0 else f"期限を{-left}日過ぎています"

    def reminds_on(self, today):
        """Whether kpi.reminders reminds of this deadline on ``today``."""
        return -self.remind_after <= self.days_left(today) <= self.remind_from


class ReminderSent(models.Model):
    """That a user was reminded on a day (kpi.reminders sends at most once a day)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("利用者"))
    sent_on = models.DateField(_("送信日"))
    measures = models.PositiveIntegerField(_("知らせた施策の数"))

    class Meta:
        verbose_name = _("送ったお知らせ")
        verbose_name_plural = _("送ったお知らせ")
        constraints = [models.UniqueConstraint(fields=["user", "sent_on"], name="reminder_once_a_day")]

    def __str__(self):
        return f"{self.user} {self.sent_on:%Y-%m-%d}"


# The licence open data is published under unless the DX推進部門 chooses another (政府標準利用規約 2.0 is
# compatible with it). A link for people to follow; nothing is fetched from it.
DEFAULT_LICENCE = ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja")


class Publication(models.Model):
    """公表: the DX推進部門 publishes a plan's results of one year. The public page and the open data
    (kpi.publishing) show a published year's approved records only, and the 改善方針 chosen here."""

    plan = models.ForeignKey("initiatives.Plan", models.PROTECT, related_name="publications", verbose_name=_("計画"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    period = period_field(HALF, help_text=_("半期ごとに確認する計画の上期は「上期」（確定した上期の進捗を公表）"))
    published_on = models.DateField(_("公表日"))
    licence = models.CharField(_("利用条件（ライセンス）"), max_length=100, default=DEFAULT_LICENCE[0])
    licence_url = models.URLField(_("利用条件のURL"), default=DEFAULT_LICENCE[1])
    public_improvements = models.ManyToManyField(
        "initiatives.Measure",
        blank=True,
        related_name="+",
        verbose_name=_("改善方針を公表する施策"),
        help_text=_("承認済みの改善方針のうち、公開ページとオープンデータに載せるもの"),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("公表者")
    )
    withdrawn = models.BooleanField(
        _("取り下げ"), default=False, help_text=_("取り下げた年度は公開ページに載りません。")
    )
    version = models.PositiveIntegerField(_("版"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("公表")
        verbose_name_plural = _("公表")
        ordering = ["plan", "fiscal_year", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "fiscal_year", "period"],
                name="publication_once_per_period",
                violation_error_message=_("この計画のこの期はもう公表されています。"),
            ),
            fiscal_year_range_check("fiscal_year", "publication_year_range"),
        ]

    def __str__(self):
        return f"{self.plan} {self.period_label}"

    def get_absolute_url(self):
        if self.period:
            return reverse("kpi:public_half", args=[self.plan.code, self.fiscal_year])
        return reverse("kpi:public_year", args=[self.plan.code, self.fiscal_year])

    @property
    def period_label(self):
        return period_label(self.fiscal_year, self.period)


class ExternalReview(models.Model):
    """外部評価: a comment of an external reviewer (有識者) on a plan's review period, on the whole plan or on
    one measure. Recorded by the DX推進部門; shown on the PDCA page, and on the public page when marked public
    and the year is published."""

    plan = models.ForeignKey(
        "initiatives.Plan", models.PROTECT, related_name="external_reviews", verbose_name=_("計画")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    period = period_field(HALVES)
    reviewer = models.CharField(_("評価者"), max_length=100, help_text=_("例: 外部有識者A（大学教授）"))
    measure = models.ForeignKey(
        "initiatives.Measure",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="external_reviews",
        verbose_name=_("対象の施策"),
        help_text=_("空欄なら計画全体への意見"),
    )
    comment = models.TextField(_("意見"), max_length=2000)
    is_public = models.BooleanField(_("公表する"), default=False, help_text=_("公表した年度の公開ページに載せます"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("記録者")
    )
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("外部評価")
        verbose_name_plural = _("外部評価")
        ordering = ["plan", "fiscal_year", "period", "pk"]
        constraints = [fiscal_year_range_check("fiscal_year", "external_review_year_range")]

    def __str__(self):
        return f"{self.plan} {period_label(self.fiscal_year, self.period)} {self.reviewer}"

    @property
    def period_label(self):
        return period_label(self.fiscal_year, self.period)

    def clean(self):
        plan = related_or_none(self, "plan")
        if plan is None:
            return
        plan.check_fiscal_year(self.fiscal_year)
        if self.period not in plan.review_periods:
            expected = "上期か下期" if plan.half_yearly else "年度"
            raise ValidationError(
                {"period": _("この計画の進捗の確認は%(expected)sごとです。") % {"expected": expected}}
            )
        measure = related_or_none(self, "measure")
        if measure is not None and measure.plan_id != plan.pk:
            raise ValidationError({"measure": _("別の計画の施策です。")})


class InterimReview(models.Model):
    """上期の進捗確認: in a plan reviewed every half year (Plan.review_cycle "half"), the 担当課's mid-year report
    of one measure: what has been done, and its progress judged on the plan's grades with a reason. The DX推進部門
    confirms it. The year-end record (下期) is MeasureYear. Written through kpi.workflow only; a confirmed
    report, or any report of an approved year, is frozen (kpi/db.py)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("入力中")
        SUBMITTED = "submitted", _("提出済み")
        CONFIRMED = "confirmed", _("確定")

    # The fields the 担当課 enters; the lock (kpi/db.py) freezes them once confirmed.
    ENTRY_FIELDS = ("progress", "judged_grade", "reason")

    measure = models.ForeignKey(
        "initiatives.Measure", models.PROTECT, related_name="interim_reviews", verbose_name=_("個別施策")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    progress = models.TextField(_("上期の取組状況"), max_length=2000, blank=True)
    judged_grade = models.CharField(_("進捗の判定"), max_length=1, choices=Grade, blank=True)
    reason = models.TextField(_("判定の理由"), max_length=2000, blank=True)
    status = models.CharField(_("状態"), max_length=10, choices=Status, default=Status.DRAFT)
    submitted_at = models.DateTimeField(_("提出日時"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("確定日時"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("確定者")
    )
    version = models.PositiveIntegerField(_("版"), default=1)
    is_sample = models.BooleanField(_("サンプル"), default=False, help_text=_("デモ用の架空の記録です。"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("上期の進捗確認")
        verbose_name_plural = _("上期の進捗確認")
        ordering = ["measure", "fiscal_year"]
        constraints = per_measure_year("interim_review", "上期の進捗確認")

    def __str__(self):
        return f"{self.measure} {period_label(self.fiscal_year, 'H1')}"

    @property
    def is_confirmed(self):
        return self.status == self.Status.CONFIRMED

    def clean(self):
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.fiscal_year)
            if not plan.half_yearly:
                raise ValidationError(_("この計画は半期ごとに進捗を確認する計画ではありません。"))
        if self.judged_grade and not self.reason.strip():
            raise ValidationError(
                {"reason": ValidationError(_("判定の理由を入力してください。"), code="reason_required")}
            )


class Indicator(models.Model):
    """An indicator of a measure besides its primary one (the KGI, with the yearly KPI targets and the record's
    KPI actual): its own name, unit and shape, a target for the whole period (evaluated over the period as the
    KGI is, kpi.achievement.kgi_result) and a target and actual each year (IndicatorYear)."""

    measure = models.ForeignKey(
        "initiatives.Measure", models.CASCADE, related_name="indicators", verbose_name=_("個別施策")
    )
    number = models.PositiveSmallIntegerField(_("番号"), help_text=_("2から（1は数値目標（KGI）の指標）"))
    name = models.CharField(_("指標"), max_length=200)
    unit = models.CharField(_("単位"), max_length=20, blank=True)
    direction = models.CharField(_("評価の向き"), max_length=10, choices=Direction, default=Direction.HIGHER)
    is_cumulative = models.BooleanField(_("累計"), default=False)
    target = models.DecimalField(
        _("期間の目標値"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    target_text = models.CharField(_("期間の目標（文章）"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("評価指標（2つ目以降）")
        verbose_name_plural = _("評価指標（2つ目以降）")
        ordering = ["measure", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "number"],
                name="indicator_number_unique",
                violation_error_message=_("この施策に同じ番号の評価指標があります。"),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=2),
                name="indicator_number_from_2",
                violation_error_message=_("評価指標の番号は2からです（1は数値目標（KGI）の指標）。"),
            ),
            not_negative("indicator_target_not_negative", _("目標値に負の数は入力できません。"), "target"),
        ]

    def __str__(self):
        return f"{self.number}. {self.name}"

    def clean(self):
        validate_percent(self.target, self.unit, "target")


class IndicatorYear(models.Model):
    """One indicator in one year: the plan's target (written as KPI targets are, kpi.workflow.save_plan_row) and
    the 担当課's actual (written with the year's record, kpi.workflow.save_record). Both stay as they are while
    the measure-year is approved (kpi/db.py). ``measure`` repeats the indicator's, for the lock and the reads."""

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="years", verbose_name=_("評価指標"))
    measure = models.ForeignKey(
        "initiatives.Measure", models.CASCADE, related_name="indicator_years", verbose_name=_("個別施策")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    target_value = models.DecimalField(
        _("目標値"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    target_text = models.CharField(_("目標（文章）"), max_length=200, blank=True)
    actual_value = models.DecimalField(
        _("実績値"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    actual_text = models.CharField(_("実績（文章）"), max_length=200, blank=True)
    target_hundredths = in_hundredths("target_value")
    actual_hundredths = in_hundredths("actual_value")

    history = HistoricalRecords(excluded_fields=["target_hundredths", "actual_hundredths"])

    class Meta:
        verbose_name = _("評価指標の年度の目標・実績")
        verbose_name_plural = _("評価指標の年度の目標・実績")
        ordering = ["indicator", "fiscal_year"]
        indexes = [models.Index(fields=["fiscal_year", "measure"], name="indicator_year_by_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "fiscal_year"],
                name="indicator_year_once",
                violation_error_message=_("この評価指標のこの年度の行は既にあります。"),
            ),
            fiscal_year_range_check("fiscal_year", "indicator_year_range"),
            not_negative("indicator_year_not_negative", _("負の数は入力できません。"), "target_value", "actual_value"),
        ]

    def __str__(self):
        return f"{self.indicator} {fiscal_year_label(self.fiscal_year)}"

    def clean(self):
        indicator = related_or_none(self, "indicator")
        if indicator is not None:
            self.measure_id = indicator.measure_id
            validate_percent(self.target_value, indicator.unit, "target_value")
            validate_percent(self.actual_value, indicator.unit, "actual_value")
        if self.target_value is not None and self.target_text:
            raise ValidationError({"target_text": _("目標値と目標（文章）はどちらか一方を入力してください。")})
        if self.actual_value is not None and self.actual_text:
            raise ValidationError({"actual_text": _("実績は数値か文章のどちらか一方を入力してください。")})
