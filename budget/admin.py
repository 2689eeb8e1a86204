from django.contrib import admin

from initiatives.admin import HistoryAdmin
from kpi.admin import PlanYearAdmin, PlanYearInline

from .models import GeneralFundPlan, PlannedCost


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
