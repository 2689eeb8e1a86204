from django.contrib import admin

from initiatives.admin import HistoryAdmin
from kpi.admin import PlanYearAdmin, PlanYearInline

from .models import BudgetFigure, GeneralFundPlan, PlannedCost


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
class BudgetFigureAdmin(HistoryAdmin):
    """Read-only: each stage is entered on its page (budget:figure_edit), through kpi.workflow."""

    list_display = ["measure", "fiscal_year", "stage", "amount", "general_fund", "is_sample"]
    list_filter = ["measure__plan", "fiscal_year", "stage", "is_sample", "measure__department"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
