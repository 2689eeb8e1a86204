"""Planned costs: 年度経費（LCC） per measure and the うち一般財源 figures."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from initiatives import permissions
from initiatives.fiscal import fiscal_year_label
from initiatives.models import by_year_index, fiscal_year_range_check, not_negative, per_measure_year, plan_of


class PlannedCost(models.Model):
    """年度経費（LCC）（計画値） of one measure in one fiscal year, in 千円.

    ``amount`` is None where the plan prints "－" (no cost planned), which the
    portal keeps apart from 0 (planned, but paid from elsewhere).
    """

    measure = models.ForeignKey(
        "initiatives.Measure", models.CASCADE, related_name="planned_costs", verbose_name=_("個別施策")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    amount = models.BigIntegerField(_("経費（千円）"), null=True, blank=True, validators=[MinValueValidator(0)])
    note = models.CharField(_("注記"), max_length=50, blank=True, help_text=_("例: ※4（計画の脚注記号）"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("年度経費（LCC）")
        verbose_name_plural = _("年度経費（LCC）")
        ordering = ["measure", "fiscal_year"]
        indexes = [by_year_index("planned_cost")]
        constraints = [
            *per_measure_year("planned_cost", "経費"),
            not_negative("planned_cost_not_negative", _("経費に負の数は入力できません。"), "amount"),
        ]

    def __str__(self):
        return fiscal_year_label(self.fiscal_year)  # no measure lookup: admin inlines list many

    def clean(self):
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.fiscal_year)


class GeneralFundPlan(models.Model):
    """うち一般財源（計画値）, in 千円.

    The plan publishes it per 基本方針 per year only (図表2-4-1), so a row is
    for a policy, or, once a department records a finer breakdown, for one
    measure of that policy. Roll-ups add up whatever rows there are.
    """

    policy = models.ForeignKey(
        "initiatives.Policy", models.CASCADE, related_name="general_fund_plans", verbose_name=_("基本方針")
    )
    measure = models.ForeignKey(
        "initiatives.Measure",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="general_fund_plans",
        verbose_name=_("個別施策"),
        help_text=_("空欄なら基本方針全体の額です。"),
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    amount = models.BigIntegerField(_("うち一般財源（千円）"), validators=[MinValueValidator(0)])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("うち一般財源（計画値）")
        verbose_name_plural = _("うち一般財源（計画値）")
        ordering = ["policy", "fiscal_year", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "fiscal_year"],
                condition=Q(measure__isnull=True),
                name="general_fund_one_per_policy_year",
                violation_error_message=_("この基本方針のこの年度の一般財源は既にあります。"),
            ),
            models.UniqueConstraint(
                fields=["measure", "fiscal_year"],
                condition=Q(measure__isnull=False),
                name="general_fund_one_per_measure_year",
                violation_error_message=_("この施策のこの年度の一般財源は既にあります。"),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="general_fund_not_negative",
                violation_error_message=_("一般財源に負の数は入力できません。"),
            ),
            fiscal_year_range_check("fiscal_year", "general_fund_year_range"),
        ]

    def __str__(self):
        return f"{self.policy} {self.fiscal_year}"

    def clean(self):
        if self.policy_id:
            self.policy.plan.check_fiscal_year(self.fiscal_year)
        if self.measure_id and self.policy_id and self.measure.initiative.policy_id != self.policy_id:
            raise ValidationError(
                {"measure": ValidationError(_("個別施策が別の基本方針に属しています。"), code="policy_mismatch")}
            )
        if self.policy_id and self.fiscal_year:
            # A policy-year is recorded either as one policy-wide figure or per measure, never both:
            # the roll-up adds every row, so a mix would count the same money twice.
            others = GeneralFundPlan.objects.filter(policy_id=self.policy_id, fiscal_year=self.fiscal_year).exclude(
                pk=self.pk
            )
            clash = others.filter(measure__isnull=self.measure_id is not None)
            if clash.exists():
                raise ValidationError(
                    ValidationError(
                        _(
                            "この基本方針・年度の一般財源は既に%(other)sで登録されています。どちらか一方にしてください。"
                        ),
                        code="mixed_granularity",
                        params={"other": _("施策別") if self.measure_id is None else _("基本方針全体")},
                    )
                )


FUNDING_FIELDS = ("national", "fund", "general_fund", "other")


def funding_error(amount, sources):
    """Why these funding sources cannot stand for the amount (None if they can): the one rule.

    Funding is optional; once any source is given, the sources (a blank one counting as 0) add up to
    the amount exactly, and an amount of "－" (none) has no sources.
    """
    given = [s for s in sources if s is not None]
    if not given:
        return None
    if amount is None:
        return _("金額が「－」（なし）のときは財源を入力できません。")
    if sum(given) != amount:
        return _("財源の合計（%(total)s千円）が金額（%(amount)s千円）と一致しません。") % {
            "total": f"{sum(given):,}",
            "amount": f"{amount:,}",
        }
    return None


def _amount_field(label):
    return models.BigIntegerField(label, null=True, blank=True, validators=[MinValueValidator(0)])


class BudgetFigure(models.Model):
    """One stage of a measure-year's money between the plan's ceiling and the 決算, in 千円.

    §2.4 of the plan: the LCC (PlannedCost) is 「投資可能な上限額」, and 実施計画 and the
    予算ヒアリング decide the final amounts. The stages, in order: 実施計画額 (the rolling three-year
    plan, set each year by the DX推進部門), 予算要求額 (the 担当課's request for the hearing) and
    査定額 (decided in the hearing, entered by the DX推進部門); the 決算 is the measure-year's record
    (kpi.MeasureYear). Written only through kpi.workflow.save_year_figure (role, lock, version).
    """

    class Stage(models.TextChoices):
        IMPLEMENTATION = "implementation", _("実施計画額")
        REQUEST = "request", _("予算要求額")
        ASSESSED = "assessed", _("査定額")

    # Who enters each stage (asked on the measure): the 担当課 requests, the DX推進部門 plans and assesses.
    ENTRY_PERMISSIONS = {
        Stage.IMPLEMENTATION: permissions.APPROVE,
        Stage.REQUEST: permissions.ENTER_MEASURE,
        Stage.ASSESSED: permissions.APPROVE,
    }

    measure = models.ForeignKey(
        "initiatives.Measure", models.PROTECT, related_name="budget_figures", verbose_name=_("個別施策")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    stage = models.CharField(_("段階"), max_length=20, choices=Stage)
    amount = models.BigIntegerField(
        _("金額（千円）"), null=True, blank=True, validators=[MinValueValidator(0)], help_text=_("「－」はなし")
    )
    national = _amount_field(_("国・県支出金（千円）"))
    fund = _amount_field(_("基金（デジタル化推進基金）（千円）"))
    general_fund = _amount_field(_("一般財源（千円）"))
    other = _amount_field(_("その他（千円）"))
    note = models.TextField(_("備考"), max_length=1000, blank=True)
    version = models.PositiveIntegerField(_("版"), default=1)
    is_sample = models.BooleanField(_("サンプル"), default=False, help_text=_("デモ用の架空の金額です。"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("予算の段階別の金額")
        verbose_name_plural = _("予算の段階別の金額")
        ordering = ["measure", "fiscal_year", "stage"]
        indexes = [models.Index(fields=["fiscal_year", "stage", "measure"], name="budget_figure_by_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "fiscal_year", "stage"],
                name="budget_figure_one_per_stage",
                violation_error_message=_("この施策のこの年度のこの段階の金額は既にあります。"),
            ),
            fiscal_year_range_check("fiscal_year", "budget_figure_year_range"),
            not_negative("budget_figure_not_negative", _("金額に負の数は入力できません。"), "amount", *FUNDING_FIELDS),
        ]

    def __str__(self):
        return f"{fiscal_year_label(self.fiscal_year)} {self.get_stage_display()}"

    def clean(self):
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.fiscal_year)
        error = funding_error(self.amount, [getattr(self, f) for f in FUNDING_FIELDS])
        if error:
            raise ValidationError(ValidationError(error, code="funding_mismatch"))

    @property
    def entry_permission(self):
        """The permission kpi.workflow.save_year_figure asks, on the measure, before this row is written."""
        return self.ENTRY_PERMISSIONS[self.stage]

    @property
    def funding(self):
        return [getattr(self, f) for f in FUNDING_FIELDS]


class Hearing(models.Model):
    """予算ヒアリング: one department's hearing in a plan-year, with its date.

    §3.2 of the plan: progress and achievement are checked and evaluated in the hearings, where the
    improvements and revisions are decided (HearingDecision, per measure). Written through
    kpi.workflow.save_review (the DX推進部門; the version seen)."""

    plan = models.ForeignKey("initiatives.Plan", models.PROTECT, related_name="hearings", verbose_name=_("計画"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    department = models.ForeignKey(
        "initiatives.Department", models.PROTECT, related_name="hearings", verbose_name=_("担当課")
    )
    held_on = models.DateField(_("実施日"))
    note = models.TextField(_("備考"), max_length=1000, blank=True)
    version = models.PositiveIntegerField(_("版"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("予算ヒアリング")
        verbose_name_plural = _("予算ヒアリング")
        ordering = ["plan", "fiscal_year", "held_on", "department"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "fiscal_year", "department"],
                name="hearing_one_per_department_year",
                violation_error_message=_("この課のこの年度の予算ヒアリングは既にあります。"),
            ),
            fiscal_year_range_check("fiscal_year", "hearing_year_range"),
        ]

    def __str__(self):
        return f"{fiscal_year_label(self.fiscal_year)} {self.department}"

    def clean(self):
        if self.plan_id:
            self.plan.check_fiscal_year(self.fiscal_year)


class HearingDecision(models.Model):
    """What the 予算ヒアリング found and decided about one measure in a plan-year (the DX推進部門 enters
    it; the measure's 担当課 reads it on the measure page and in the 事業シート)."""

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("継続（現行どおり）")
        IMPROVE = "improve", _("改善")
        REVISE = "revise", _("見直し")

    measure = models.ForeignKey(
        "initiatives.Measure", models.PROTECT, related_name="hearing_decisions", verbose_name=_("個別施策")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    evaluation = models.TextField(_("確認・評価"), max_length=2000, blank=True)
    decision = models.CharField(_("決定"), max_length=10, choices=Decision, blank=True)
    decision_text = models.TextField(_("決定の内容（改善・見直しの内容）"), max_length=2000, blank=True)
    version = models.PositiveIntegerField(_("版"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("予算ヒアリングの確認・評価")
        verbose_name_plural = _("予算ヒアリングの確認・評価")
        ordering = ["measure", "fiscal_year"]
        constraints = per_measure_year("hearing_decision", "予算ヒアリングの確認・評価")

    def __str__(self):
        return f"{fiscal_year_label(self.fiscal_year)} {self.get_decision_display() or '（未決定）'}"

    def clean(self):
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.fiscal_year)
        if self.decision in (self.Decision.IMPROVE, self.Decision.REVISE) and not self.decision_text.strip():
            message = _("改善・見直しの内容を書いてください。")
            raise ValidationError({"decision_text": ValidationError(message, code="decision_text_required")})


class FinalEvaluation(models.Model):
    """計画期間の総括 of one measure: what the DX推進部門 concludes at the end of the plan and what the
    measure becomes in the next plan (継続・統合・完了・廃止). Written through kpi.workflow.save_review."""

    class CarryOver(models.TextChoices):
        CONTINUE = "continue", _("継続")
        MERGE = "merge", _("統合")
        COMPLETE = "complete", _("完了")
        ABOLISH = "abolish", _("廃止")

    measure = models.OneToOneField(
        "initiatives.Measure", models.PROTECT, related_name="final_evaluation", verbose_name=_("個別施策")
    )
    carry_over = models.CharField(_("次期計画への引継ぎ"), max_length=10, choices=CarryOver, blank=True)
    comment = models.TextField(_("総括（成果と課題）"), max_length=2000, blank=True)
    version = models.PositiveIntegerField(_("版"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("計画期間の総括")
        verbose_name_plural = _("計画期間の総括")
        ordering = ["measure"]

    def __str__(self):
        return f"{self.measure} {self.get_carry_over_display() or '（未決定）'}"

    def clean(self):
        if self.carry_over in (self.CarryOver.MERGE, self.CarryOver.ABOLISH) and not self.comment.strip():
            message = _("統合・廃止の場合は、その理由を総括に書いてください。")
            raise ValidationError({"comment": ValidationError(message, code="reason_required")})


class ExportJob(models.Model):
    """A report's .xlsx or CSV built in the background (budget.exports), for a plan too large to build in a request.

    The file is kept in the database, so whichever server instance the requester reaches next can serve it.
    A job runs once: budget.exports.claim moves it from queued to running with one conditional UPDATE.
    Only the requester and the DX推進部門 see it; run_export_jobs removes jobs older than a day."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待機中")
        RUNNING = "running", _("作成中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    class Output(models.TextChoices):
        XLSX = "xlsx", _("Excel（.xlsx）")
        CSV = "csv", _("CSV")

    token = models.UUIDField(_("識別子"), default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey("initiatives.Plan", models.CASCADE, related_name="export_jobs", verbose_name=_("計画"))
    kind = models.CharField(_("帳票"), max_length=20)  # a key of budget.views.REPORTS
    output = models.CharField(_("形式"), max_length=4, choices=Output.choices)
    params = models.JSONField(_("条件"), default=dict, blank=True)  # the report's query, e.g. {"year": "2025"}
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="export_jobs", verbose_name=_("依頼者")
    )
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    content = models.BinaryField(_("ファイル"), null=True, editable=False)
    filename = models.CharField(_("ファイル名"), max_length=255, blank=True)
    error = models.TextField(_("エラー"), blank=True)
    created_at = models.DateTimeField(_("依頼日時"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("帳票の作成")
        verbose_name_plural = _("帳票の作成")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="export_job_status"
            ),
            models.CheckConstraint(condition=Q(output__in=["xlsx", "csv"]), name="export_job_output"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(content__isnull=False), name="export_job_done_has_content"
            ),
        ]

    def __str__(self):
        return f"{self.kind}.{self.output} ({self.get_status_display()})"

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)
