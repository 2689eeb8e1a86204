"""The API's endpoints. Reads: fetch (404 for an unknown code or a year outside the plan) → JSON.
Writes: fetch → the page's permission predicate (403) → the page's form (400) → kpi.workflow (409) → JSON.

Nothing here saves a model: kpi.workflow is the one door, as for the entry form, the grid and the admin.
"""

from collections import defaultdict

from csp.decorators import csp_update
from django.views.decorators.csrf import ensure_csrf_cookie
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import generics
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from budget.selectors import plan_budget_table
from initiatives import permissions
from initiatives.models import PLAN_ORDER, Initiative, Measure, Policy
from kpi import workflow
from kpi.facts import measure_facts
from kpi.forms import CommentForm, MeasureYearForm
from kpi.models import KpiTarget, MeasureYear

from . import selectors
from . import serializers as s
from .errors import NON_FIELD, ConflictSerializer, ErrorSerializer, api_exception_handler, conflict
from .filters import HearingFilter, InitiativeFilter, MeasureFilter, RecordFilter
from .permissions import CanViewPortal

# --- What every endpoint shares ------------------------------------------------------------------------


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    page_query_description = "ページ番号（1から）"
    page_size_query_description = "1ページの件数（既定100、最大1,000）"


class PortalSchema(AutoSchema):
    """Operations say who may call them (the docstrings here are for programmers, not for the schema)."""

    def get_description(self):
        return "閲覧：すべての役割（DX推進部門・担当課・所属長・部長）。" if self.method == "GET" else ""


class PortalAPI:
    """The portal's role check (401 anonymous, 403 without a role), JSON only, the error shapes of errors.py."""

    permission_classes = [CanViewPortal]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    pagination_class = None
    filter_backends = []
    schema = PortalSchema()

    def get_exception_handler(self):
        return api_exception_handler

    def plan(self):
        if not hasattr(self, "_plan"):
            self._plan = selectors.get_plan(self.kwargs["plan_code"])
        return self._plan

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "plan_code" in self.kwargs:
            context["plan"] = self.plan()
        return context


class PlanListAPI(PortalAPI, generics.ListAPIView):
    """A paginated, filtered list of one plan's rows; ``model`` names them for the schema."""

    model = None
    pagination_class = Pages
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view: no plan
            return self.model.objects.none()
        return self.rows(self.plan())

    def rows(self, plan):
        raise NotImplementedError


ERROR = OpenApiResponse(ErrorSerializer, description="{detail, code}（日本語のメッセージ）")
VALIDATION_ERRORS = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="入力の誤り：{項目名: [メッセージ]}。全体にかかるものは non_field_errors",
)
CONFLICT = OpenApiResponse(
    ConflictSerializer,
    description="書き込めません（何も書いていません）。code: conflict＝読んだ後に他の人が更新した、"
    "locked＝承認済みでロック中、state＝今の状態ではできない操作。version は現在の版",
)
READ_ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}
LIST_ERRORS = {400: VALIDATION_ERRORS, **READ_ERRORS}
WRITE_ERRORS = {400: VALIDATION_ERRORS, **READ_ERRORS, 409: CONFLICT}

SLUG = r"^[-a-zA-Z0-9_]+$"  # Django's slug converter: anything else is not one of these URLs
PLAN_CODE = OpenApiParameter("plan_code", str, OpenApiParameter.PATH, pattern=SLUG, description="計画コード")
MEASURE_CODE = OpenApiParameter("measure_code", str, OpenApiParameter.PATH, pattern=SLUG, description="施策コード")
YEAR = OpenApiParameter(
    "year", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH, description="年度（西暦）。計画期間の外は404"
)
MEASURE_YEAR = [PLAN_CODE, MEASURE_CODE, YEAR]


def require(allowed):
    if not allowed:
        raise PermissionDenied("この操作を行う権限がありません。")


# --- The plan ----------------------------------------------------------------------------------------


@extend_schema(tags=["計画"], summary="計画の一覧", responses={200: s.PlanSerializer(many=True), **LIST_ERRORS})
class PlanList(PortalAPI, generics.ListAPIView):
    serializer_class = s.PlanSerializer
    pagination_class = Pages

    def get_queryset(self):
        return selectors.plans()


@extend_schema(tags=["計画"], summary="計画", parameters=[PLAN_CODE], responses={200: s.PlanSerializer, **READ_ERRORS})
class PlanDetail(PortalAPI, generics.RetrieveAPIView):
    serializer_class = s.PlanSerializer

    def get_object(self):
        return self.plan()


@extend_schema(
    tags=["計画"],
    summary="基本方針（取組を含む）",
    parameters=[PLAN_CODE],
    responses={200: s.PolicySerializer(many=True), **LIST_ERRORS},
)
class PolicyList(PlanListAPI):
    serializer_class = s.PolicySerializer
    model = Policy

    def rows(self, plan):
        return selectors.policies(plan)


@extend_schema(
    tags=["計画"],
    summary="取組",
    parameters=[PLAN_CODE],
    responses={200: s.InitiativeSerializer(many=True), **LIST_ERRORS},
)
class InitiativeList(PlanListAPI):
    serializer_class = s.InitiativeSerializer
    filterset_class = InitiativeFilter
    model = Initiative

    def rows(self, plan):
        return selectors.initiatives(plan)


@extend_schema(
    tags=["施策"],
    summary="個別施策（スケジュール・KGI・KPI目標・年度経費を含む）",
    parameters=[PLAN_CODE],
    responses={200: s.MeasureSerializer(many=True), **LIST_ERRORS},
)
class MeasureList(PlanListAPI):
    serializer_class = s.MeasureSerializer
    filterset_class = MeasureFilter
    model = Measure

    def rows(self, plan):
        return selectors.measures(plan)


@extend_schema(
    tags=["施策"],
    summary="個別施策",
    parameters=[PLAN_CODE, MEASURE_CODE],
    responses={200: s.MeasureSerializer, **READ_ERRORS},
)
class MeasureDetail(PortalAPI, generics.RetrieveAPIView):
    serializer_class = s.MeasureSerializer

    def get_object(self):
        measure = selectors.measures(self.plan()).filter(code=self.kwargs["measure_code"]).first()
        if measure is None:
            raise NotFound("その施策はありません。")
        return measure


# --- PDCA records: reads -----------------------------------------------------------------------------


@extend_schema(
    tags=["実績・評価"],
    summary="施策の各年度（目標・経費・実績・達成度・評価・状態・版）",
    parameters=[PLAN_CODE, MEASURE_CODE],
    responses={200: s.MeasureYearSerializer(many=True), **READ_ERRORS},
)
class MeasureYearList(PortalAPI, APIView):
    def get(self, request, plan_code, measure_code):
        measure = selectors.get_measure(plan_code, measure_code)
        return Response(s.MeasureYearSerializer(selectors.measure_years(measure), many=True).data)


@extend_schema(
    tags=["実績・評価"],
    summary="計画の実績・評価の記録（記録のある施策・年度）",
    parameters=[PLAN_CODE],
    responses={200: s.MeasureYearSerializer(many=True), **LIST_ERRORS},
)
class RecordList(PlanListAPI):
    serializer_class = s.MeasureYearSerializer
    filterset_class = RecordFilter
    model = MeasureYear

    def rows(self, plan):
        return selectors.records(plan)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = selectors.record_rows(self.plan(), page)
        return self.get_paginated_response(s.MeasureYearSerializer(rows, many=True).data)


# --- PDCA records: writes ----------------------------------------------------------------------------

UNKNOWN_FIELD = "この項目はありません。"
NOT_FOR_THIS_TARGET = (
    "この施策・年度の目標では入力できない項目です（数値の目標は kpi_actual、文章の目標は kpi_actual_text）。"
)
NO_RECORD = "この年度の実績はまだありません。"
# Keys of the answer that a client may send back unchanged (GET, edit, PUT): ignored, never written.
ANSWER_ONLY = frozenset(s.MeasureYearSerializer().fields) - frozenset(s.EntrySerializer().fields)


class MeasureYearAPI(PortalAPI):
    def measure(self):
        """The measure of the URL, if the year of the URL is in its plan."""
        measure = selectors.get_measure(self.kwargs["plan_code"], self.kwargs["measure_code"])
        selectors.check_year(measure.plan, self.kwargs["year"])
        return measure

    def measure_year(self):
        """The measure and its record of the year (a new, unsaved one where none exists yet)."""
        measure, year = self.measure(), self.kwargs["year"]
        record = MeasureYear.objects.filter(measure=measure, fiscal_year=year).first()
        record = record or MeasureYear(fiscal_year=year)
        record.measure = measure
        return measure, record

    def answer(self, measure, year):
        return Response(s.MeasureYearSerializer(selectors.measure_years(measure, [year])[0]).data)

    def through_the_door(self, measure, record, write):
        """Run a kpi.workflow step; its refusals become 403 or 409, with the record's version as stored now."""
        try:
            write()
        except workflow.NotAllowed as error:
            raise PermissionDenied(str(error)) from error
        except workflow.WorkflowError as error:
            stored = MeasureYear.objects.filter(measure=measure, fiscal_year=record.fiscal_year)
            return conflict(error, stored.values_list("version", flat=True).first() or 0)
        return self.answer(measure, record.fiscal_year)


def form_errors(form):
    """A form's errors as the API answers them: the version field by its API name, the rest by field."""
    names = {"seen_version": "version", "__all__": NON_FIELD}
    return {names.get(name, name): list(messages) for name, messages in form.errors.items()}


def read_body(serializer_class, request):
    if isinstance(request.data, dict):
        unknown = set(request.data) - set(serializer_class().fields) - ANSWER_ONLY
        if unknown:
            raise ValidationError({name: [UNKNOWN_FIELD] for name in sorted(unknown)})
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


ENTRY_DESCRIPTION = (
    "実績・評価・改善方針を書き込みます（入力画面と同じ検査・権限・ロック・版の確認）。"
    "version には読んだときの版を送ります。数値は JSON の数値でも文字列（全角数字・カンマ可、「－」は未入力）でも"
    "かまいません。null は未入力です。PATCH は送った項目だけ、PUT は送らなかった項目を空にします。"
    "提出済みの記録を書き換えると入力中に戻ります（もう一度提出してください）。"
)


ENTRY_EXAMPLE = OpenApiExample(
    "実績の入力",
    value={"version": 0, "kpi_actual": 75, "actual_cost": "１，２００", "work_done": "スマートフォン講座を12回開催"},
    request_only=True,
)


@extend_schema(tags=["実績・評価"], parameters=MEASURE_YEAR)
class MeasureYearDetail(MeasureYearAPI, APIView):
    @extend_schema(summary="施策・年度の実績・評価", responses={200: s.MeasureYearSerializer, **READ_ERRORS})
    def get(self, request, **kwargs):
        return self.answer(self.measure(), self.kwargs["year"])

    @extend_schema(
        summary="実績・評価の書き込み（送らなかった項目は空）",
        description=ENTRY_DESCRIPTION,
        request=s.EntrySerializer,
        responses={200: s.MeasureYearSerializer, **WRITE_ERRORS},
        examples=[ENTRY_EXAMPLE],
    )
    def put(self, request, **kwargs):
        return self.enter(request, keep_unsent=False)

    @extend_schema(
        summary="実績・評価の書き込み（送った項目だけ）",
        description=ENTRY_DESCRIPTION,
        request=s.EntrySerializer,
        responses={200: s.MeasureYearSerializer, **WRITE_ERRORS},
        examples=[ENTRY_EXAMPLE],
    )
    def patch(self, request, **kwargs):
        return self.enter(request, keep_unsent=True)

    def enter(self, request, keep_unsent):
        measure, record = self.measure_year()
        require(request.user.has_perm(permissions.ENTER_MEASURE, measure))
        body = read_body(s.EntrySerializer, request)
        target = KpiTarget.objects.filter(measure=measure, fiscal_year=record.fiscal_year).first()
        # The page's own form, bound to what a person would have typed: the same rules and messages.
        accepted = set(MeasureYearForm(instance=record, target=target).fields) - {"seen_version"}
        sent = {name: value for name, value in body.items() if name != "version"}
        refused = sorted(name for name, value in sent.items() if name not in accepted and value != "")
        if refused:
            raise ValidationError({name: [NOT_FOR_THIS_TARGET] for name in refused})
        data = {name: self.shown(record, name) if keep_unsent else "" for name in accepted}
        data.update({name: value for name, value in sent.items() if name in accepted})
        data["seen_version"] = str(body["version"])
        form = MeasureYearForm(data, instance=record, target=target)
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        return self.through_the_door(measure, record, lambda: workflow.save_entry(form, request.user))

    @staticmethod
    def shown(record, name):
        value = getattr(record, name)
        return "" if value is None else str(value)


class StepView(MeasureYearAPI, APIView):
    """A workflow step on a measure-year: submit (担当課 or DX推進部門), approve, return, reopen (DX推進部門)."""

    body = s.StepSerializer
    needs_comment = False

    def allowed(self, user, measure):
        return user.has_perm(permissions.APPROVE)

    def step(self, record, user, seen_version, comment):
        raise NotImplementedError

    def post(self, request, **kwargs):
        measure, record = self.measure_year()
        require(self.allowed(request.user, measure))
        if record.pk is None:
            raise NotFound(NO_RECORD)
        body = read_body(self.body, request)
        form = CommentForm({"seen_version": str(body["version"]), "comment": body.get("comment", "")})
        form.fields["comment"].required = self.needs_comment
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        seen, comment = form.cleaned_data["seen_version"], form.cleaned_data["comment"]
        return self.through_the_door(measure, record, lambda: self.step(record, request.user, seen, comment))


def step_schema(summary, description, body, example):
    return extend_schema(
        tags=["実績・評価"],
        summary=summary,
        description=description,
        parameters=MEASURE_YEAR,
        request=body,
        responses={200: s.MeasureYearSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample(summary, value=example, request_only=True)],
    )


@step_schema(
    "提出",
    "入力した実績をDX推進部門に提出します（担当課・DX推進部門）。実績が未入力なら409。",
    s.StepSerializer,
    {"version": 1},
)
class Submit(StepView):
    def allowed(self, user, measure):
        return user.has_perm(permissions.ENTER_MEASURE, measure)

    def step(self, record, user, seen_version, comment):
        workflow.save_record(record, user, seen_version, submit=True)


@step_schema("承認", "提出済みの実績を承認し、年度をロックします（DX推進部門）。", s.StepSerializer, {"version": 2})
class Approve(StepView):
    def step(self, record, user, seen_version, comment):
        workflow.approve(record, user, seen_version, comment)


@step_schema(
    "差戻し",
    "提出済みの実績を理由を付けて差し戻します（DX推進部門）。",
    s.CommentStepSerializer,
    {"version": 2, "comment": "決算額を確認してください。"},
)
class Return(StepView):
    body = s.CommentStepSerializer
    needs_comment = True

    def step(self, record, user, seen_version, comment):
        workflow.return_for_revision(record, user, seen_version, comment)


@step_schema(
    "再開",
    "承認済みの年度のロックを理由を付けて解除します（DX推進部門）。",
    s.CommentStepSerializer,
    {"version": 3, "comment": "決算額の訂正"},
)
class Reopen(StepView):
    body = s.CommentStepSerializer
    needs_comment = True

    def step(self, record, user, seen_version, comment):
        workflow.reopen(record, user, seen_version, comment)


# --- The reports' figures ------------------------------------------------------------------------------


@extend_schema(
    tags=["集計"],
    summary="図表2-4-1 計画期間における経費（計画値）",
    parameters=[PLAN_CODE],
    responses={200: s.BudgetTableSerializer, **READ_ERRORS},
)
class BudgetTable(PortalAPI, APIView):
    def get(self, request, plan_code):
        return Response(s.BudgetTableSerializer(plan_budget_table(self.plan())).data)


@extend_schema(
    tags=["集計"],
    summary="予算ヒアリングの数値（施策ごと、年度ごとの目標・実績・達成度・評価・経費）",
    parameters=[PLAN_CODE],
    responses={200: s.HearingSerializer(many=True), **LIST_ERRORS},
)
class Hearing(PlanListAPI):
    serializer_class = s.HearingSerializer
    filterset_class = HearingFilter
    model = Measure

    def rows(self, plan):
        return Measure.objects.filter(plan=plan).order_by(*PLAN_ORDER)

    def list(self, request, *args, **kwargs):
        plan = self.plan()
        filterset = HearingFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        year = filterset.form.cleaned_data.get("year")
        if year is not None and not plan.covers(year):
            raise ValidationError({"year": [f"その年度は計画期間（{plan.period_label}）の外です。"]})
        ids = self.paginate_queryset(filterset.qs.values_list("pk", flat=True))
        facts = measure_facts(plan, [year] if year else plan.fiscal_years, Measure.objects.filter(pk__in=ids))
        by_measure = defaultdict(list)
        for fact in facts:
            by_measure[fact.measure_id].append(fact)
        rows = [s.HearingRow(plan.code, years) for years in by_measure.values()]
        return self.get_paginated_response(s.HearingSerializer(rows, many=True).data)


# --- Schema and docs -----------------------------------------------------------------------------------


class Schema(PortalAPI, SpectacularAPIView):
    """The OpenAPI schema, for any role (session or token)."""

    # JSON first (YAML with ?format=yaml): a refusal reads as JSON like every other answer of the API.
    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]


class Docs(PortalAPI, SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's files on this server: no CDN, no inline script."""

    url = "/api/schema/"
    template_name = "api/swagger_ui.html"
    renderer_classes = SpectacularSwaggerSplitView.renderer_classes


def docs_page():
    """The docs page is a page for people: sign in first (the login page), then a role, like every page.
    It sets the CSRF cookie, which Swagger UI sends back as the header a session write needs, and lets
    swagger-ui.css draw its icons, which it holds as data: SVG images (nothing else widens the CSP)."""
    view = csp_update({"img-src": ["data:"]})(ensure_csrf_cookie(Docs.as_view()))
    view.login_required = True  # DRF marks its views login_not_required; this one is not
    return view


class NoSuchEndpoint(PortalAPI, APIView):
    """Any other URL under /api/ answers JSON 404 (after the same authentication), never an HTML page."""

    schema = None

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound("このURLのAPIはありません。")
