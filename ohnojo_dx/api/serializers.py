"""What the API answers, and the shapes of the bodies it accepts.

The answers are read-only serializers over models or the selectors' rows. The request bodies are checked
here for their JSON types only: the rules and messages are the pages' own forms' (kpi.forms), which the
views bind the values to, and nothing here saves a model.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from initiatives.fiscal import fiscal_year_label
from initiatives.models import Initiative, Measure, Plan, Policy, lines, paragraphs
from kpi.achievement import LABELS
from kpi.facts import notes_of
from kpi.models import Direction, Grade, MeasureYear

TEXT_MAX = 2000
VERSION_MAX = 2147483647  # PositiveIntegerField


def api_path(*parts):
    return "/api/" + "".join(f"{part}/" for part in parts)


# --- The plan ---------------------------------------------------------------------------------------


class NationalPrioritySerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="計画の番号（①なら1）")
    name = serializers.CharField()
    content = serializers.CharField()


class PlanSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="このAPIのURL")
    period_label = serializers.CharField(help_text="例: R4（2022）年度～R7（2025）年度")
    fiscal_years = serializers.ListField(child=serializers.IntegerField())
    data_notes = serializers.SerializerMethodField()
    national_priorities = NationalPrioritySerializer(many=True, help_text="計画が掲げる国の重点取組事項")

    class Meta:
        model = Plan
        fields = [
            "code",
            "url",
            "title",
            "municipality",
            "adopted_on",
            "vision",
            "vision_description",
            "progress_management",
            "lcc_definition",
            "kgi_definition",
            "kpi_definition",
            "costs_description",
            "score_note",
            "consideration_heading",
            "national_priorities",
            "start_year",
            "end_year",
            "period_label",
            "fiscal_years",
            "source",
            "data_notes",
        ]

    def get_url(self, plan) -> str:
        return api_path("plans", plan.code)

    def get_data_notes(self, plan) -> list[str]:
        return paragraphs(plan.data_notes)


class InitiativeSerializer(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy.number", help_text="基本方針の番号")
    data_notes = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = [
            "policy",
            "number",
            "title",
            "status",
            "urgency",
            "importance",
            "consideration",
            "future_no",
            "data_notes",
        ]

    def get_data_notes(self, initiative) -> list[str]:
        return paragraphs(initiative.data_notes)


class PolicyInitiativeSerializer(InitiativeSerializer):
    class Meta(InitiativeSerializer.Meta):
        fields = [f for f in InitiativeSerializer.Meta.fields if f != "policy"]


class PolicySerializer(serializers.ModelSerializer):
    initiatives = PolicyInitiativeSerializer(many=True)

    class Meta:
        model = Policy
        fields = ["number", "numeral", "title", "description", "initiatives"]


class DepartmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class KgiSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="数値目標（計画の表記）")
    indicator = serializers.CharField()
    target = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    target_text = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    is_cumulative = serializers.BooleanField()
    target_display = serializers.CharField(help_text="目標の表記（例: 30%減、112手続）")


class ScheduleBarSerializer(serializers.Serializer):
    label = serializers.CharField()
    start_year = serializers.IntegerField()
    end_year = serializers.IntegerField()
    order = serializers.IntegerField()
    is_inferred = serializers.BooleanField(help_text="期間は推定")


class KpiTargetSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, help_text="数値の目標")
    text = serializers.CharField(help_text="文章の目標")
    note = serializers.CharField()
    display = serializers.SerializerMethodField(help_text="表記（例: 30%減、1業務（※2）、－）")

    def get_display(self, target) -> str:
        return target.display(getattr(target.measure, "kgi", None))  # the measure came with its prefetched targets


class PlannedCostSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField()
    amount = serializers.IntegerField(allow_null=True, help_text="経費（千円）。null は計画の「－」")
    note = serializers.CharField()


class MeasureSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    policy = serializers.IntegerField(source="initiative.policy.number", help_text="基本方針の番号")
    initiative = serializers.IntegerField(source="initiative.number", help_text="取組の番号（基本方針の中で）")
    department = DepartmentSerializer(allow_null=True, help_text="担当課")
    effects = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    national_priorities = serializers.SerializerMethodField(help_text="取り組む国の重点取組事項の番号")
    kgi = serializers.SerializerMethodField()
    schedule_bars = ScheduleBarSerializer(many=True)
    kpi_targets = KpiTargetSerializer(many=True)
    planned_costs = PlannedCostSerializer(many=True)

    class Meta:
        model = Measure
        fields = [
            "code",
            "url",
            "policy",
            "initiative",
            "ordinal",
            "name",
            "content",
            "goal",
            "effects",
            "notes",
            "national_priorities",
            "department",
            "kgi",
            "schedule_bars",
            "kpi_targets",
            "planned_costs",
        ]

    def get_url(self, measure) -> str:
        return api_path("plans", self.context["plan"].code, "measures", measure.code)

    def get_effects(self, measure) -> list[str]:
        return lines(measure.effects)

    def get_notes(self, measure) -> list[str]:
        return paragraphs(measure.notes)

    def get_national_priorities(self, measure) -> list[int]:
        return sorted(p.number for p in measure.national_priorities.all())

    @extend_schema_field(KgiSerializer(allow_null=True))
    def get_kgi(self, measure):
        kgi = getattr(measure, "kgi", None)
        return KgiSerializer(kgi).data if kgi else None


# --- PDCA records -------------------------------------------------------------------------------------


class AssessmentSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=[(state, label or "達成度から評価") for state, label in LABELS.items()])
    label = serializers.CharField()
    rate = serializers.DecimalField(
        max_digits=None, decimal_places=1, allow_null=True, help_text="達成度（%）。数値の目標と実績があるときだけ"
    )
    grade = serializers.CharField(help_text="評価（S～D）。まだなければ空")


class TargetSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    text = serializers.CharField()
    note = serializers.CharField()


class MeasureYearSerializer(serializers.Serializer):
    # One measure in one fiscal year (selectors.YearRow): the plan's target and cost beside the record.
    # A year with no record yet answers ``version`` 0 and empty figures; writing it creates the record.
    measure = serializers.CharField(source="measure.code", help_text="施策コード")
    fiscal_year = serializers.IntegerField()
    fiscal_year_label = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    target = TargetSerializer(allow_null=True, help_text="KPI目標（null は計画の「－」）")
    unit = serializers.CharField()
    target_display = serializers.CharField(help_text="KPI目標の表記（例: 30%減、1業務（※2）、－）")
    kpi_actual_display = serializers.CharField(help_text="KPI実績の表記（例: 25%減、－）")
    planned_cost = serializers.IntegerField(allow_null=True, help_text="年度経費（千円）（計画値）")
    kpi_actual = serializers.DecimalField(source="record.kpi_actual", max_digits=14, decimal_places=2, allow_null=True)
    kpi_actual_text = serializers.CharField(source="record.kpi_actual_text")
    actual_cost = serializers.IntegerField(source="record.actual_cost", allow_null=True, help_text="決算額（千円）")
    actual_general_fund = serializers.IntegerField(source="record.actual_general_fund", allow_null=True)
    actual_other_funds = serializers.IntegerField(source="record.actual_other_funds", allow_null=True)
    work_done = serializers.CharField(source="record.work_done")
    judged_grade = serializers.CharField(source="record.judged_grade", help_text="文章の目標の判定（S～D）")
    evaluation_comment = serializers.CharField(source="record.evaluation_comment")
    improvement = serializers.CharField(source="record.improvement", help_text="改善方針（空は未選択）")
    improvement_text = serializers.CharField(source="record.improvement_text")
    status = serializers.ChoiceField(source="record.status", choices=MeasureYear.Status.choices)
    status_label = serializers.CharField(source="record.get_status_display")
    locked = serializers.BooleanField(source="record.is_locked", help_text="承認済みでロック中")
    return_comment = serializers.CharField(source="record.return_comment")
    submitted_at = serializers.DateTimeField(source="record.submitted_at", allow_null=True)
    approved_at = serializers.DateTimeField(source="record.approved_at", allow_null=True)
    version = serializers.IntegerField(source="record.version", help_text="書き込むときに送る版（記録がなければ0）")
    achievement = AssessmentSerializer(help_text="達成度と評価")

    def get_fiscal_year_label(self, row) -> str:
        return fiscal_year_label(row.fiscal_year)

    def get_url(self, row) -> str:
        return api_path("plans", row.plan_code, "measures", row.measure.code, "years", row.fiscal_year)


# --- Request bodies (types only; the rules are kpi.forms') ----------------------------------------------

NUMBER_OR_TEXT = {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}], "nullable": True}


class FormValue(serializers.Field):
    """A JSON scalar handed to the page's form as the text a person would type.

    Numbers may come as JSON numbers or as strings ("１２，３４５", "－"); null is "not entered"."""

    default_error_messages = {"invalid": "文字列・数値・null のいずれかを入力してください。"}

    def __init__(self, numeric=False, required=False, **kwargs):
        self.numeric = numeric
        super().__init__(required=required, allow_null=True, **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return True, ""  # null: not entered, as a blank box
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        if not self.numeric and not isinstance(data, str):
            self.fail("invalid")
        return data if isinstance(data, str) else str(data)

    def to_representation(self, value):
        return value


@extend_schema_field(NUMBER_OR_TEXT)
class NumberValue(FormValue):
    def __init__(self, **kwargs):
        super().__init__(numeric=True, **kwargs)


@extend_schema_field({"type": "string", "nullable": True, "maxLength": TEXT_MAX})
class TextValue(FormValue):
    pass


def choice_value(choices):
    @extend_schema_field({"type": "string", "nullable": True, "enum": ["", *[value for value, _ in choices], None]})
    class ChoiceValue(FormValue):
        pass

    return ChoiceValue


class EntrySerializer(serializers.Serializer):
    # PUT/PATCH of a measure-year: the entry fields of the page's form, and the version the client read.
    version = serializers.IntegerField(
        min_value=0, max_value=VERSION_MAX, help_text="読んだときの版（GETの version）。違えば409で何も書きません。"
    )
    kpi_actual = NumberValue(help_text="KPI実績値（数値の目標のとき）")
    kpi_actual_text = TextValue(help_text="KPI実績（文章の目標のとき）")
    actual_cost = NumberValue(help_text="決算額（千円）")
    actual_general_fund = NumberValue(help_text="うち一般財源（千円）")
    actual_other_funds = NumberValue(help_text="うちその他財源（千円）")
    work_done = TextValue(help_text="実施内容")
    judged_grade = choice_value(Grade.choices)(help_text="評価（文章の目標のとき、担当課の判定）")
    evaluation_comment = TextValue(help_text="評価・要因分析")
    improvement = choice_value(MeasureYear.Improvement.choices)(help_text="改善方針")
    improvement_text = TextValue(help_text="改善方針の内容")


class StepSerializer(serializers.Serializer):
    # Submit or approve: the version the client read.
    version = serializers.IntegerField(min_value=0, max_value=VERSION_MAX, help_text="読んだときの版")


class CommentStepSerializer(StepSerializer):
    # Return or reopen: the version and the reason (required).
    comment = TextValue(required=True, help_text="理由")


# --- The reports' figures --------------------------------------------------------------------------------


class BudgetCellSerializer(serializers.Serializer):
    cost = serializers.IntegerField(help_text="経費（千円）")
    general_fund = serializers.IntegerField(allow_null=True, help_text="うち一般財源（千円）。null は記録なし")


class BudgetRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    policy = serializers.IntegerField(
        source="policy.number", allow_null=True, help_text="基本方針の番号（計の行は null）"
    )
    cells = serializers.SerializerMethodField()
    total = BudgetCellSerializer()

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "fiscal_year": {"type": "integer"},
                    "cost": {"type": "integer"},
                    "general_fund": {"type": "integer", "nullable": True},
                },
                "required": ["fiscal_year", "cost", "general_fund"],
            },
        }
    )
    def get_cells(self, row):
        years = self.context["years"]
        return [
            {"fiscal_year": year, **BudgetCellSerializer(cell).data}
            for year, cell in zip(years, row.cells, strict=True)
        ]


class BudgetTableSerializer(serializers.Serializer):
    # 図表2-4-1: per 基本方針 and year, 経費 and うち一般財源 (千円), with the totals.
    years = serializers.ListField(child=serializers.IntegerField())
    rows = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()

    @extend_schema_field(BudgetRowSerializer(many=True))
    def get_rows(self, table):
        return BudgetRowSerializer(table.rows, many=True, context={"years": table.years}).data

    @extend_schema_field(BudgetRowSerializer)
    def get_total(self, table):
        return BudgetRowSerializer(table.total, context={"years": table.years}).data


class FactSerializer(serializers.Serializer):
    # One year of a measure as the hearing report reads it (kpi.facts.Fact).
    fiscal_year = serializers.IntegerField(source="year")
    fiscal_year_label = serializers.SerializerMethodField()
    target_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    target_text = serializers.CharField()
    target_note = serializers.CharField()
    target_display = serializers.CharField(help_text="KPI目標の表記（例: 30%減、1業務（※2）、－）")
    actual = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, help_text="KPI実績値")
    actual_text = serializers.CharField()
    actual_display = serializers.CharField(help_text="KPI実績の表記（例: 25%減、－）")
    planned_cost = serializers.IntegerField(allow_null=True, help_text="LCC計画（千円）")
    planned_cost_note = serializers.CharField(source="cost_note", help_text="LCCの注記（例: ※4）")
    actual_cost = serializers.IntegerField(allow_null=True, help_text="決算額（千円）")
    achievement = AssessmentSerializer(source="assessment")
    status = serializers.ChoiceField(choices=MeasureYear.Status.choices)
    stage = serializers.ChoiceField(choices=["P", "D", "C", "A"], help_text="PDCAの段階")
    overdue = serializers.BooleanField(help_text="年度が終わったのに未入力")
    delayed = serializers.BooleanField(help_text="スケジュール遅延の報告あり")
    attention = serializers.ListField(child=serializers.CharField(), help_text="要確認の理由（キー）")
    evaluation_comment = serializers.CharField()
    improvement = serializers.CharField()
    improvement_text = serializers.CharField()

    def get_fiscal_year_label(self, fact) -> str:
        return fiscal_year_label(fact.year)


class HearingRow:
    """A measure's facts, year by year (kpi.facts.measure_facts gives them in that order)."""

    def __init__(self, plan_code, years):
        self.plan_code, self.years = plan_code, years
        first = years[0]
        self.code, self.name, self.unit = first.code, first.name, first.unit
        self.policy, self.initiative, self.department = (
            first.policy_label,
            first.initiative_label,
            first.department_name,
        )
        self.notes = notes_of(years)


class HearingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="施策コード")
    url = serializers.SerializerMethodField()
    name = serializers.CharField()
    policy = serializers.CharField(help_text="基本方針")
    initiative = serializers.CharField(help_text="取組")
    department = serializers.CharField(help_text="担当課（未設定は空）")
    unit = serializers.CharField()
    notes = serializers.CharField(help_text="注記：KPI目標・LCCの注記（※）の年度と本文（帳票の「注記」の列と同じ）")
    years = FactSerializer(many=True)

    def get_url(self, row) -> str:
        return api_path("plans", row.plan_code, "measures", row.code)
