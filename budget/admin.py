from django.contrib import admin

from initiatives.admin import HistoryAdmin, ReadOnlyAdmin
from kpi.admin import PlanYearAdmin, PlanYearInline

from .models import BudgetFigure, FinalEvaluation, GeneralFundPlan, Hearing, HearingDecision, PlannedCost


class PlannedCostInline(PlanYearInline):
    model = PlannedCost
    fields = ["fiscal_year", "amount", "note"]


@admin.register(PlannedCost)
class PlannedCostAdmin(PlanYearAdmin):
    list_display = ["measure", "fiscal_year", "amount"]
    list_filter = ["measure__plan", "measure__initiative__policy", "fiscal_year"]


@admin.register(GeneralFundPlan)
class GeneralFundPlanAdmin(HistoryAdmin):
    list_display = ["policy", "measure", "fiscal_year", "amount"]
    list_filter = ["policy__plan", "policy", "fiscal_year"]
    list_select_related = ["policy", "measure"]
    autocomplete_fields = ["measure"]


@admin.register(BudgetFigure)
class BudgetFigureAdmin(ReadOnlyAdmin):
    """Each stage is entered on its page (budget:figure_edit)."""

    list_display = ["measure", "fiscal_year", "stage", "amount", "general_fund", "is_sample"]
    list_filter = ["measure__plan", "fiscal_year", "stage", "is_sample", "measure__department"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]


@admin.register(Hearing)
class HearingAdmin(ReadOnlyAdmin):
    """Dates are set on the hearings page (budget:hearing_edit)."""

    list_display = ["plan", "fiscal_year", "department", "held_on"]
    list_filter = ["plan", "fiscal_year"]
    list_select_related = ["plan", "department"]


@admin.register(HearingDecision)
class HearingDecisionAdmin(ReadOnlyAdmin):
    """Recorded on the measure's hearing page (budget:decision_edit)."""

    list_display = ["measure", "fiscal_year", "decision"]
    list_filter = ["measure__plan", "fiscal_year", "decision", "measure__department"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]


@admin.register(FinalEvaluation)
class FinalEvaluationAdmin(ReadOnlyAdmin):
    """Recorded on the measure's 総括 page (budget:final_edit)."""

    list_display = ["measure", "carry_over"]
    list_filter = ["measure__plan", "carry_over", "measure__department"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]
