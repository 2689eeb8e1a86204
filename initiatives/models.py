"""The plan as data: plan → 基本方針 → 取組 → 個別施策 → schedule bars.

KGI/KPI targets live in kpi/, planned costs and 一般財源 in budget/.
"""

import functools
import operator
import re

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .fiscal import fiscal_year_label
from .roles import Role

# A sanity range for any fiscal year column; the plan's own range is checked in clean().
FISCAL_YEAR_MIN = 1989
FISCAL_YEAR_MAX = 2100


def fiscal_year_range_check(field, name):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": FISCAL_YEAR_MIN, f"{field}__lte": FISCAL_YEAR_MAX}),
        name=name,
        violation_error_message=_("年度が範囲外です。"),
    )


def not_negative(name, message, *fields):
    """CHECK that each (nullable) field is empty or ≥ 0."""
    condition = functools.reduce(operator.and_, (Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gte": 0}) for f in fields))
    return models.CheckConstraint(condition=condition, name=name, violation_error_message=message)


def per_measure_year(prefix, what):
    """The invariants every yearly row of a measure shares: one row a year, and a sane year."""
    return [
        models.UniqueConstraint(
            fields=["measure", "fiscal_year"],
            name=f"{prefix}_one_per_year",
            violation_error_message=_("この施策のこの年度の%(what)sは既にあります。") % {"what": what},
        ),
        fiscal_year_range_check("fiscal_year", f"{prefix}_year_range"),
    ]


def by_year_index(prefix):
    """Reports read one or a few years of a whole plan."""
    return models.Index(fields=["fiscal_year", "measure"], name=f"{prefix}_by_year")


def related_or_none(obj, name):
    """A related object if set, even one not saved yet (an admin inline under a new measure)."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


def plan_of(obj):
    """The plan a measure-level row belongs to, or None while its measure is not chosen yet."""
    measure = related_or_none(obj, "measure")
    return related_or_none(measure, "plan") if measure is not None else None


def lines(text):
    """Effects are held one a line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def paragraphs(text):
    """Notes are held one a paragraph (a blank line between), since a footnote may run over lines."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def circled(number):
    """①…⑳ as the plan prints numbered items."""
    return chr(0x2460 + number - 1) if 1 <= number <= 20 else f"({number})"


class Department(models.Model):
    """A 所管課. Users belong to one or more; later work scopes permissions by it."""

    code = models.SlugField(_("コード"), max_length=40, unique=True)
    name = models.CharField(_("課名"), max_length=100)
    is_sample = models.BooleanField(
        _("サンプル"), default=False, help_text=_("デモ用のデータです。実在の組織ではありません。")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("所属職員"), related_name="departments", blank=True
    )

    class Meta:
        verbose_name = _("所管課")
        verbose_name_plural = _("所管課")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（サンプル）" if self.is_sample else self.name


# The names of the plan's three levels in the Ohnojo plan, for a plan that names none of its own.
LEVEL_NAMES = ("基本方針", "取組", "個別施策")


class Plan(models.Model):
    code = models.SlugField(_("計画コード"), max_length=40, unique=True)
    title = models.CharField(_("計画名"), max_length=200)
    municipality = models.CharField(_("自治体"), max_length=100)
    adopted_on = models.DateField(_("策定日"), null=True, blank=True)
    vision = models.CharField(_("目指す姿（ビジョン）"), max_length=200)
    vision_description = models.TextField(_("目指す姿の説明"), blank=True)
    progress_management = models.TextField(_("計画の進行管理"), blank=True)
    # The plan's own words for its terms (ページの見方) and for its tables (2.3, 2.4, 2.5), shown as printed.
    lcc_definition = models.TextField(_("年度経費（LCC）の定義"), blank=True)
    kgi_definition = models.TextField(_("数値目標（KGI）の定義"), blank=True)
    kpi_definition = models.TextField(_("評価指標（KPI）の定義"), blank=True)
    costs_description = models.TextField(_("取組に係る経費の説明"), blank=True)
    score_note = models.TextField(
        _("緊急度・重要度についての注記"), blank=True, help_text=_("優先順位の表に添えられた計画の文言")
    )
    consideration_heading = models.CharField(
        _("今後検討する取組の「検討の方向性」の見出し"),
        max_length=100,
        blank=True,
        help_text=_("計画の表の見出しどおり。空欄なら「検討の方向性」"),
    )
    start_year = models.PositiveSmallIntegerField(_("計画期間（開始年度）"))
    end_year = models.PositiveSmallIntegerField(_("計画期間（終了年度）"))
    source = models.CharField(_("出典"), max_length=200, blank=True)
    data_notes = models.TextField(
        _("データに関する注記"), blank=True, help_text=_("空行で区切って1件ずつ。計画本文ではない補足です。")
    )
    # The plan's own names for its levels (e.g. 基本目標 / 取組分野 / 事業); blank: the Ohnojo plan's (LEVEL_NAMES).
    policy_level_name = models.CharField(
        _("第1階層の名称"), max_length=20, blank=True, help_text=_("空欄なら「基本方針」。例: 基本目標")
    )
    initiative_level_name = models.CharField(
        _("第2階層の名称"), max_length=20, blank=True, help_text=_("空欄なら「取組」。例: 取組分野")
    )
    group_level_name = models.CharField(
        _("第3階層の名称"),
        max_length=20,
        blank=True,
        help_text=_("4階層の計画のとき、取組と施策の間の階層の名称（例: 取組事項）。空欄なら3階層の計画です。"),
    )
    measure_level_name = models.CharField(
        _("施策の階層の名称"), max_length=20, blank=True, help_text=_("空欄なら「個別施策」。例: 事業")
    )
    grading_rule = models.CharField(
        _("評価の決め方"),
        max_length=10,
        choices=[("rate", _("達成度の基準で判定")), ("judgement", _("担当課が進捗を判定し、承認で確定"))],
        default="rate",
        help_text=_("評価の区分（文字・意味・色）は「評価の区分」で計画ごとに決めます。"),
    )
    overall_rule = models.CharField(
        _("施策の総合評価"),
        max_length=10,
        choices=[("primary", _("主な指標（KGIの指標）")), ("lowest", _("最も低い達成度")), ("mean", _("達成度の平均"))],
        default="primary",
        help_text=_("評価指標が複数ある施策の、年度の達成度と評価の決め方（達成度で判定する計画）"),
    )
    review_cycle = models.CharField(
        _("進捗の確認の周期"),
        max_length=4,
        choices=[("year", _("年度ごと")), ("half", _("半期ごと（上期・下期）"))],
        default="year",
    )
    drafted_from = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="next_plans",
        verbose_name=_("元の計画"),
        help_text=_("この計画の下書きを作った前期の計画（budget.next_plan）"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("計画")
        verbose_name_plural = _("計画")
        ordering = ["-start_year", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__lte=F("end_year")),
                name="plan_period_ordered",
                violation_error_message=_("計画期間の終了年度は開始年度以降にしてください。"),
            ),
            fiscal_year_range_check("start_year", "plan_start_year_range"),
            fiscal_year_range_check("end_year", "plan_end_year_range"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("initiatives:plan_detail", args=[self.code])

    @property
    def fiscal_years(self):
        return list(range(self.start_year, self.end_year + 1))

    @property
    def half_yearly(self):
        """Reviewed every half year (上期・下期), not once a year: the one test of Plan.review_cycle."""
        return self.review_cycle == "half"

    @property
    def review_periods(self):
        """The periods of a year this plan is reviewed in: "" (the year), or "H1" and "H2" (initiatives.fiscal)."""
        return ["H1", "H2"] if self.half_yearly else [""]

    @property
    def grades_by_rate(self):
        """Graded from 達成度 by thresholds (kpi.achievement), not by the 担当課's progress judgement."""
        return self.grading_rule != "judgement"

    # The one rule for naming the plan's levels on pages, reports, workbooks and the public page.
    @property
    def policy_level(self):
        return self.policy_level_name or LEVEL_NAMES[0]

    @property
    def initiative_level(self):
        return self.initiative_level_name or LEVEL_NAMES[1]

    @property
    def measure_level(self):
        return self.measure_level_name or LEVEL_NAMES[2]

    @property
    def group_level(self):
        """The name of the level between 取組 and measures; "" for a plan of three levels."""
        return self.group_level_name

    @property
    def level_count(self):
        return 4 if self.group_level_name else 3

    def group_label(self, number, title):
        """'取組事項2：…' for a measure's group in a plan of four levels; "" where there is none."""
        return f"{self.group_level_name}{number}：{title}" if self.group_level_name and number is not None else ""

    def policy_label(self, numeral, title):
        """'基本方針Ⅰ 市民の…' in the plan's own name for the level."""
        return f"{self.policy_level}{numeral} {title}"

    def initiative_label(self, number, title):
        """'取組1：行政手続の…' in the plan's own name for the level."""
        return f"{self.initiative_level}{number}：{title}"

    @property
    def period_label(self):
        return f"{fiscal_year_label(self.start_year)}～{fiscal_year_label(self.end_year)}"

    def clean(self):
        if self.pk:
            self._check_grading_rule()
        if self.pk and self.start_year and self.end_year:
            outside = (
                ("measures__kpi_targets__fiscal_year", "KPI目標"),
                ("measures__planned_costs__fiscal_year", "年度経費"),
                ("measures__years__fiscal_year", "実績"),
                ("policies__general_fund_plans__fiscal_year", "一般財源"),
                ("measures__schedule_bars__start_year", "スケジュール"),
                ("measures__schedule_bars__end_year", "スケジュール"),
            )
            mine = Plan.objects.filter(pk=self.pk)
            found = sorted(
                {
                    label
                    for path, label in outside
                    if mine.filter(Q(**{f"{path}__lt": self.start_year}) | Q(**{f"{path}__gt": self.end_year})).exists()
                }
            )
            if found:
                raise ValidationError(
                    _("計画期間の外になる%(what)sのデータがあります。先にそのデータを修正してください。"),
                    code="period_excludes_rows",
                    params={"what": "・".join(found)},
                )

    def _check_grading_rule(self):
        """The grading and overall rules may change only while no year is approved (a confirmed grade would
        change), and the grading rule only to one the plan's grades fit."""
        before = Plan.objects.filter(pk=self.pk).values_list("grading_rule", "overall_rule").first()
        if before is None or before == (self.grading_rule, self.overall_rule):
            return
        field = "grading_rule" if before[0] != self.grading_rule else "overall_rule"
        if self.measures.filter(years__status="approved").exists():
            raise ValidationError(
                {field: _("承認済みの年度があるため、評価の決め方は変えられません（確定した評価が変わるため）。")}
            )
        if before[0] == self.grading_rule:
            return
        # the grades (kpi.GradeThreshold) have a lower bound exactly when the plan grades by 達成度
        misfits = self.grade_thresholds.filter(min_rate__isnull=self.grades_by_rate)
        if misfits.exists():
            raise ValidationError(
                {"grading_rule": _("評価の区分がこの決め方に合いません。先に区分の下限を見直してください。")}
            )

    def covers(self, year):
        """The one rule for "a year inside this plan" (the database triggers say it again in SQL)."""
        return self.start_year <= year <= self.end_year

    def check_fiscal_year(self, year, field="fiscal_year"):
        """Raise a field error for a year outside the plan (forms, admin, the plan-file loader)."""
        if year is not None and not self.covers(year):
            raise ValidationError(
                {
                    field: ValidationError(
                        _("%(year)s は計画期間（%(period)s）の外です。"),
                        code="outside_plan",
                        params={"year": fiscal_year_label(year), "period": self.period_label},
                    )
                }
            )

    def data_note_lines(self):
        return paragraphs(self.data_notes)


class Policy(models.Model):
    """基本方針."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="policies", verbose_name=_("計画"))
    number = models.PositiveSmallIntegerField(_("番号"))
    numeral = models.CharField(_("表記"), max_length=8, help_text=_("Ⅰ、Ⅱ など"))
    title = models.CharField(_("基本方針"), max_length=200)
    description = models.TextField(_("説明"), blank=True)

    class Meta:
        verbose_name = _("基本方針")
        verbose_name_plural = _("基本方針")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="policy_number_unique",
                violation_error_message=_("同じ計画に同じ番号の基本方針があります。"),
            )
        ]

    def __str__(self):
        return f"基本方針{self.numeral} {self.title}"


class Initiative(models.Model):
    """取組. Future ones (§2.5 今後検討する取組) carry no measures yet."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("実施")
        FUTURE = "future", _("今後検討")

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="initiatives", verbose_name=_("基本方針"))
    number = models.PositiveSmallIntegerField(_("番号"))
    title = models.CharField(_("取組"), max_length=200)
    urgency = models.PositiveSmallIntegerField(_("緊急度"), null=True, blank=True)
    importance = models.PositiveSmallIntegerField(_("重要度"), null=True, blank=True)
    status = models.CharField(_("状態"), max_length=10, choices=Status, default=Status.ACTIVE)
    consideration = models.TextField(_("検討の方向性"), blank=True)
    future_no = models.PositiveSmallIntegerField(_("今後検討する取組の番号"), null=True, blank=True)
    data_notes = models.TextField(_("データに関する注記"), blank=True)

    class Meta:
        verbose_name = _("取組")
        verbose_name_plural = _("取組")
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"],
                name="initiative_number_unique",
                violation_error_message=_("同じ基本方針に同じ番号の取組があります。"),
            ),
            models.CheckConstraint(
                condition=Q(urgency__isnull=True) | Q(urgency__lte=100),
                name="initiative_urgency_max_100",
                violation_error_message=_("緊急度は0～100で入力してください。"),
            ),
            models.CheckConstraint(
                condition=Q(importance__isnull=True) | Q(importance__lte=100),
                name="initiative_importance_max_100",
                violation_error_message=_("重要度は0～100で入力してください。"),
            ),
        ]

    def __str__(self):
        return f"{self.policy.numeral}-取組{self.number}：{self.title}"

    @property
    def is_future(self):
        return self.status == self.Status.FUTURE

    def data_note_lines(self):
        return paragraphs(self.data_notes)

    @property
    def national_priorities(self):
        """The national 重点取組事項 its measures serve (the plan shades such 取組), from the prefetched measures."""
        found = {p.pk: p for m in self.measures.all() for p in m.national_priorities.all()}
        return sorted(found.values(), key=lambda p: p.number)


class NationalPriority(models.Model):
    """One of the national 重点取組事項 the plan cites (大野城市: 図表1-4-2, 自治体DX推進計画).

    Held per plan, numbered as that plan prints them: the national list is revised from version to
    version, and each municipality's plan cites the one in force when it was written."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="national_priorities", verbose_name=_("計画"))
    number = models.PositiveSmallIntegerField(_("番号"), help_text=_("①なら1"))
    name = models.CharField(_("重点取組事項"), max_length=200)
    content = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("国の重点取組事項")
        verbose_name_plural = _("国の重点取組事項")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="national_priority_number_unique",
                violation_error_message=_("同じ計画に同じ番号の重点取組事項があります。"),
            )
        ]

    def __str__(self):
        return f"{self.mark}{self.name}"

    @property
    def mark(self):
        return circled(self.number)


class MeasureGroup(models.Model):
    """The level between 取組 and measures in a plan of four levels (福井市: 基本目標 → 取組分野 → 取組事項 → 事業).
    Named by Plan.group_level_name; a plan of three levels has none."""

    initiative = models.ForeignKey(Initiative, models.CASCADE, related_name="groups", verbose_name=_("取組"))
    number = models.PositiveSmallIntegerField(_("番号"))
    title = models.CharField(_("名称"), max_length=200)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("第3階層（取組事項など）")
        verbose_name_plural = _("第3階層（取組事項など）")
        ordering = ["initiative", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "number"],
                name="measure_group_number_unique",
                violation_error_message=_("同じ取組に同じ番号の第3階層があります。"),
            )
        ]

    def __str__(self):
        return f"{self.number}：{self.title}"


# The plan's own order of measures: by 基本方針, then 取組, then the measure's place in it (unique within a plan).
PLAN_ORDER = ("initiative__policy__number", "initiative__number", "ordinal")


class Measure(models.Model):
    """個別施策.

    ``plan`` repeats ``initiative.policy.plan`` so that the natural key
    (plan, code) is unique in the database; the code stays stable when a
    revision moves a measure to another initiative.
    """

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="measures", verbose_name=_("計画"))
    initiative = models.ForeignKey(Initiative, models.CASCADE, related_name="measures", verbose_name=_("取組"))
    code = models.SlugField(_("施策コード"), max_length=40, help_text=_("例: I-1-1。取込やURLで使う識別子です。"))
    ordinal = models.PositiveSmallIntegerField(_("番号"), help_text=_("①なら1"))
    name = models.CharField(_("個別施策"), max_length=200)
    content = models.TextField(_("内容"), blank=True)
    goal = models.TextField(_("目指す姿／目標"), blank=True)
    effects = models.TextField(_("期待される効果"), blank=True, help_text=_("1行に1件"))
    notes = models.TextField(_("注記（※）"), blank=True, help_text=_("計画に記載の注記。空行で区切って1件ずつ"))
    data_notes = models.TextField(
        _("データに関する注記"), blank=True, help_text=_("計画本文ではない補足。空行で区切って1件ずつ")
    )
    national_priorities = models.ManyToManyField(
        NationalPriority,
        blank=True,
        related_name="measures",
        verbose_name=_("国の重点取組事項"),
        help_text=_("この施策が取り組む国の重点取組事項（同じ計画のもの）"),
    )
    department = models.ForeignKey(
        Department,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name=_("担当課"),
        help_text=_("計画には記載がありません。"),
    )
    group = models.ForeignKey(
        MeasureGroup,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name=_("第3階層"),
        help_text=_("4階層の計画のとき、施策が属する第3階層（同じ取組のもの）"),
    )
    predecessor = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="successors",
        verbose_name=_("前期計画の施策"),
        help_text=_("次期計画の下書きで引き継いだ、前期計画の個別施策"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("個別施策")
        verbose_name_plural = _("個別施策")
        ordering = ["plan", *PLAN_ORDER]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"],
                name="measure_code_unique_in_plan",
                violation_error_message=_("同じ計画に同じ施策コードがあります。"),
            ),
            models.UniqueConstraint(
                fields=["initiative", "ordinal"],
                name="measure_ordinal_unique",
                violation_error_message=_("同じ取組に同じ番号の個別施策があります。"),
            ),
        ]

    def __str__(self):
        return f"{self.ordinal_mark} {self.name}"

    def get_absolute_url(self):
        return reverse("measure_detail", args=[self.plan.code, self.code])

    def clean(self):
        if self.initiative_id and self.plan_id and self.initiative.policy.plan_id != self.plan_id:
            raise ValidationError(
                {"initiative": ValidationError(_("取組が別の計画に属しています。"), code="plan_mismatch")}
            )
        if self.group_id and self.initiative_id and self.group.initiative_id != self.initiative_id:
            raise ValidationError(
                {"group": ValidationError(_("第3階層が別の取組に属しています。"), code="group_mismatch")}
            )

    @property
    def ordinal_mark(self):
        """①…⑳ as the plan prints them."""
        return circled(self.ordinal)

    def effect_lines(self):
        return lines(self.effects)

    def note_lines(self):
        return paragraphs(self.notes)

    def data_note_lines(self):
        return paragraphs(self.data_notes)


class ScheduleBar(models.Model):
    measure = models.ForeignKey(Measure, models.CASCADE, related_name="schedule_bars", verbose_name=_("個別施策"))
    label = models.CharField(_("項目"), max_length=200)
    start_year = models.PositiveSmallIntegerField(_("開始年度"))
    end_year = models.PositiveSmallIntegerField(_("終了年度"))
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    is_inferred = models.BooleanField(
        _("期間は推定"), default=True, help_text=_("計画の抽出で矢印の長さが失われたため、規則により推定した期間です。")
    )
    basis = models.TextField(_("推定の根拠"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("スケジュール")
        verbose_name_plural = _("スケジュール")
        ordering = ["measure", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__lte=F("end_year")),
                name="schedule_bar_ordered",
                violation_error_message=_("終了年度は開始年度以降にしてください。"),
            ),
            fiscal_year_range_check("start_year", "schedule_bar_start_year_range"),
            fiscal_year_range_check("end_year", "schedule_bar_end_year_range"),
        ]

    def __str__(self):
        return self.label

    def clean(self):
        if self.start_year and self.end_year and self.start_year > self.end_year:
            raise ValidationError(
                {"end_year": ValidationError(_("終了年度は開始年度以降にしてください。"), code="ends_before_start")}
            )
        plan = plan_of(self)
        if plan is not None:
            plan.check_fiscal_year(self.start_year, "start_year")
            plan.check_fiscal_year(self.end_year, "end_year")

    def covers(self, year):
        return self.start_year <= year <= self.end_year


class RoleGroup(models.Model):
    """Binds a portal role (a stable code) to the group that grants it.

    The group's name is for people and may be renamed in the admin; the portal only ever
    asks for the role's code.
    """

    role = models.CharField(_("役割"), max_length=20, choices=Role, unique=True)
    group = models.OneToOneField(Group, models.CASCADE, related_name="portal_role", verbose_name=_("グループ"))

    class Meta:
        verbose_name = _("役割")
        verbose_name_plural = _("役割")

    def __str__(self):
        return f"{self.get_role_display()}（{self.group.name}）"


class PlanRevision(models.Model):
    """計画の見直し: a decided change to the plan (§1.3 「必要に応じて随時見直し」, §3.2: decided in the
    予算ヒアリング). Its changes (RevisionChange) are written through kpi.workflow.revise_plan_row, so the
    plan as adopted (当初) stays readable beside the plan as revised (見直し後)."""

    plan = models.ForeignKey(Plan, models.PROTECT, related_name="revisions", verbose_name=_("計画"))
    number = models.PositiveSmallIntegerField(_("番号"))
    decided_on = models.DateField(_("決定日"))
    decided_by = models.CharField(
        _("決定した場"), max_length=200, help_text=_("例: 令和6年度予算ヒアリング、DX推進本部会議")
    )
    reason = models.TextField(_("見直しの理由"), max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("記録者")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("計画の見直し")
        verbose_name_plural = _("計画の見直し")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="plan_revision_number_unique",
                violation_error_message=_("この計画に同じ番号の見直しがあります。"),
            )
        ]

    def __str__(self):
        return f"第{self.number}回見直し（{self.decided_on:%Y/%m/%d}）"


class RevisionChange(models.Model):
    """One plan figure a revision changed: a year's KPI target or LCC of a measure, before and after
    (each as the row's fields, e.g. {"value": "30", "text": "", "note": ""})."""

    class Kind(models.TextChoices):
        KPI_TARGET = "kpi_target", _("KPI目標")
        PLANNED_COST = "planned_cost", _("年度経費（LCC）")

    revision = models.ForeignKey(PlanRevision, models.PROTECT, related_name="changes", verbose_name=_("見直し"))
    measure = models.ForeignKey(Measure, models.PROTECT, related_name="revision_changes", verbose_name=_("個別施策"))
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("項目"), max_length=20, choices=Kind)
    before = models.JSONField(_("見直し前"), null=True, blank=True, help_text=_("空: 見直し前は行なし"))
    after = models.JSONField(_("見直し後"), null=True, blank=True, help_text=_("空: 見直しで行を削除"))

    class Meta:
        verbose_name = _("見直しの内容")
        verbose_name_plural = _("見直しの内容")
        ordering = ["revision", "measure", "fiscal_year", "kind"]

    def __str__(self):
        return f"{self.revision} {self.measure} {fiscal_year_label(self.fiscal_year)} {self.get_kind_display()}"
